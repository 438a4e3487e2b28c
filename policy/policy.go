package policy

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
)

// DefaultEntrypoint is the rule a user policy defines unless WithEntrypoint
// names another: `package hallmark.policy` with a `decision` rule.
const DefaultEntrypoint = "data.hallmark.policy.decision"

// DefaultTimeout bounds one evaluation unless WithTimeout says otherwise.
const DefaultTimeout = 2 * time.Second

// Module is one Rego source file. Name is its path, used in error messages
// and in the policy digest.
type Module struct {
	Name   string
	Source []byte
}

// Violation is one reason to deny.
type Violation struct {
	// RuleID identifies the rule, e.g. "vulns.fixable".
	RuleID string `json:"ruleId"`
	// Message says what is wrong, for a person.
	Message string `json:"message"`
	// Remediation says what to do about it.
	Remediation string `json:"remediation,omitempty"`
	// Evidence lists the IDs (bundle digests) of the evidence it refers to.
	Evidence []string `json:"evidence,omitempty"`
}

// Decision is the outcome of one evaluation.
type Decision struct {
	// Allow is true only when the policy allowed and reported no violation.
	Allow bool `json:"allow"`
	// Violations are sorted by RuleID, then Message.
	Violations []Violation `json:"violations"`
	// SLSABuildLevel is the SLSA Build level (0-3) the evidence meets, as the
	// policy reports it; 0 when it does not report one.
	SLSABuildLevel int `json:"slsaBuildLevel"`
	// VerifiedLevels are the SLSA levels for a VSA's verifiedLevels, e.g.
	// ["SLSA_BUILD_LEVEL_2"]; empty when the level is 0. They describe the
	// evidence whatever the verdict; a VSA for a denied decision reports FAILED.
	VerifiedLevels []string `json:"verifiedLevels,omitempty"`
	// SourceDirty reports that the artifact's provenance records a build
	// from a tree with uncommitted changes (or tracked files the build
	// changed), as the policy reports it; VerifiedLevels then carry
	// SourceDirtyLevel.
	SourceDirty bool `json:"sourceDirty,omitempty"`
	// PolicyURI and PolicyDigest (hex SHA-256) identify the policy.
	PolicyURI    string `json:"policyUri"`
	PolicyDigest string `json:"policyDigest"`
	// Artifact and Environment repeat the input's artifact digest and environment.
	Artifact    string `json:"artifact"`
	Environment string `json:"environment"`
	// Time is the injected evaluation time.
	Time time.Time `json:"time"`
}

// SourceDirtyLevel is the custom verifiedLevels value (SLSA allows values
// not starting with SLSA_) that marks an artifact built from a dirty tree,
// so a VSA never hides it, whatever the verdict.
const SourceDirtyLevel = "HALLMARK_SOURCE_DIRTY"

// Policy is a compiled policy, safe for concurrent use by many goroutines.
type Policy struct {
	query      rego.PreparedEvalQuery
	modules    []Module
	data       []byte
	entrypoint string
	uri        string
	digest     string
	timeout    time.Duration
}

// Option configures Compile.
type Option func(*config) error

type config struct {
	entrypoint string
	uri        string
	timeout    time.Duration
	data       map[string]any
	params     *Params
}

// WithEntrypoint names the rule that yields the decision (default
// DefaultEntrypoint), e.g. "data.acme.deploy.decision".
func WithEntrypoint(ref string) Option {
	return func(c *config) error {
		r, err := ast.ParseRef(ref)
		if err != nil || !r.HasPrefix(ast.DefaultRootRef) || len(r) < 2 || !r.IsGround() {
			return fmt.Errorf("%w: entrypoint %q must be a ground reference under data, like data.pkg.decision", ErrOption, ref)
		}
		c.entrypoint = r.String()
		return nil
	}
}

// WithURI sets the policy URI reported in decisions and VSAs.
func WithURI(uri string) Option {
	return func(c *config) error {
		if strings.TrimSpace(uri) == "" {
			return fmt.Errorf("%w: empty policy URI", ErrOption)
		}
		c.uri = uri
		return nil
	}
}

// WithTimeout bounds each evaluation (default DefaultTimeout). The earlier of
// this and the context's deadline applies.
func WithTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("%w: timeout %s must be positive", ErrOption, d)
		}
		c.timeout = d
		return nil
	}
}

// WithData sets the data document (JSON-compatible values: maps, slices,
// strings, numbers, booleans) the policy reads under `data`.
func WithData(doc map[string]any) Option {
	return func(c *config) error {
		c.data = doc
		return nil
	}
}

// WithParams places validated built-in library parameters at
// data.hallmark.params. It may not be combined with a WithData document that
// already has data.hallmark.params.
func WithParams(p Params) Option {
	return func(c *config) error {
		c.params = &p
		return nil
	}
}

// Compile parses and compiles modules together with the built-in library and
// prepares the entrypoint query for evaluation. Compile once, Eval many.
func Compile(ctx context.Context, modules []Module, opts ...Option) (*Policy, error) {
	cfg := config{entrypoint: DefaultEntrypoint, uri: "", timeout: DefaultTimeout}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	data, err := dataDocument(cfg.data, cfg.params)
	if err != nil {
		return nil, err
	}
	all := append(BuiltinModules(), modules...)
	parsed, err := parseModules(all)
	if err != nil {
		return nil, err
	}
	digest, err := policyDigest(all, cfg.entrypoint, data)
	if err != nil {
		return nil, err
	}
	if cfg.uri == "" {
		cfg.uri = "sha256:" + digest
	}
	store := inmem.NewFromObjectWithOpts(data, inmem.OptRoundTripOnWrite(false))
	regoOpts := []func(*rego.Rego){
		rego.Query(cfg.entrypoint),
		rego.Store(store),
		rego.SetRegoVersion(ast.RegoV1),
		rego.Capabilities(capabilities()),
		rego.StrictBuiltinErrors(true),
	}
	for _, m := range parsed {
		regoOpts = append(regoOpts, rego.ParsedModule(m))
	}
	pq, err := rego.New(regoOpts...).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCompile, err)
	}
	dataJSON, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("%w: data document: %w", ErrOption, err)
	}
	return &Policy{query: pq, modules: all, data: dataJSON, entrypoint: cfg.entrypoint, uri: cfg.uri, digest: digest, timeout: cfg.timeout}, nil
}

// parseModules parses Rego v1 modules, refusing duplicate names.
func parseModules(modules []Module) ([]*ast.Module, error) {
	seen := make(map[string]bool, len(modules))
	out := make([]*ast.Module, 0, len(modules))
	for _, m := range modules {
		if m.Name == "" {
			return nil, fmt.Errorf("%w: a module has no name", ErrCompile)
		}
		if seen[m.Name] {
			return nil, fmt.Errorf("%w: two modules named %q", ErrCompile, m.Name)
		}
		seen[m.Name] = true
		pm, err := ast.ParseModuleWithOpts(m.Name, string(m.Source), ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrCompile, err)
		}
		out = append(out, pm)
	}
	return out, nil
}

// dataDocument merges the user's data with the parameters at hallmark.params.
func dataDocument(user map[string]any, params *Params) (map[string]any, error) {
	doc := map[string]any{}
	for k, v := range user {
		doc[k] = v
	}
	if params == nil {
		return normalizeData(doc)
	}
	pv, err := params.document()
	if err != nil {
		return nil, err
	}
	hm, _ := doc["hallmark"].(map[string]any)
	if doc["hallmark"] != nil && hm == nil {
		return nil, fmt.Errorf("%w: data.hallmark is not an object and parameters need data.hallmark.params", ErrOption)
	}
	merged := map[string]any{}
	for k, v := range hm {
		merged[k] = v
	}
	if _, dup := merged["params"]; dup {
		return nil, fmt.Errorf("%w: both WithData and WithParams set data.hallmark.params; use one", ErrOption)
	}
	merged["params"] = pv
	doc["hallmark"] = merged
	return normalizeData(doc)
}

// capabilities are OPA's built-in functions minus the non-deterministic
// ones (network, randomness, runtime), except time.now_ns, which returns the
// injected evaluation time. A policy decides from its input and data alone.
func capabilities() *ast.Capabilities {
	c := ast.CapabilitiesForThisVersion()
	c.Builtins = slices.DeleteFunc(c.Builtins, func(b *ast.Builtin) bool {
		return b.Nondeterministic && b.Name != ast.NowNanos.Name
	})
	c.AllowNet = []string{}
	return c
}

// failure turns an evaluation failure into a denying decision.
func failure(d Decision, ruleID, remediation string, err error) (Decision, error) {
	msg := err.Error()
	if len(msg) > 1000 {
		msg = msg[:1000] + "..."
	}
	d.Allow = false
	d.SLSABuildLevel = 0
	d.SourceDirty = false
	d.VerifiedLevels = nil
	d.Violations = []Violation{{RuleID: ruleID, Message: msg, Remediation: remediation}}
	return d, &EvalError{RuleID: ruleID, Artifact: d.Artifact, Err: err}
}

// Modules returns the Rego modules the policy was compiled from, the
// built-in library included, as the digest covers them.
func (p *Policy) Modules() []Module { return slices.Clone(p.modules) }

// DataJSON returns the policy's data document as canonical JSON.
func (p *Policy) DataJSON() []byte { return slices.Clone(p.data) }

// Entrypoint returns the rule that yields the decision, e.g.
// "data.hallmark.builtin.v1.decision".
func (p *Policy) Entrypoint() string { return p.entrypoint }

// InputJSON returns the input document exactly as policies see it (JSON
// field names, empty collections instead of null), for `opa eval`, debugging
// and golden files.
func InputJSON(in Input) ([]byte, error) {
	term, err := toValue(reflect.ValueOf(in))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInput, err)
	}
	v, err := ast.JSON(term.Value)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInput, err)
	}
	return json.Marshal(v)
}

// URI returns the policy URI.
func (p *Policy) URI() string { return p.uri }

// Digest returns the policy digest: hex SHA-256 over the modules (including
// the built-in library) in name order, the entrypoint and the data document.
func (p *Policy) Digest() string { return p.digest }

// Eval decides on one input. It always returns a usable Decision: when
// evaluation fails (error, timeout, undefined or malformed decision, invalid
// input) the Decision denies with one "policy.*" violation saying why, and
// the error, an *EvalError, says the same. The evaluation time is
// in.Context.Time; the policy never reads a clock.
func (p *Policy) Eval(ctx context.Context, in Input) (Decision, error) {
	d := Decision{
		PolicyURI:    p.uri,
		PolicyDigest: p.digest,
		Artifact:     in.Artifact.Digest.String(),
		Environment:  in.Context.Environment,
		Time:         in.Context.Time,
	}
	if in.Context.Time.IsZero() {
		return failure(d, "policy.input", "Pass the decision time in the input context.", fmt.Errorf("%w: context.time is not set", ErrInput))
	}
	if in.Artifact.Digest.IsZero() {
		return failure(d, "policy.input", "Name the artifact digest in the input.", fmt.Errorf("%w: artifact.digest is not set", ErrInput))
	}
	term, err := toValue(reflect.ValueOf(in))
	if err != nil {
		return failure(d, "policy.input", "Report this as a Hallmark bug.", fmt.Errorf("%w: %w", ErrInput, err))
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	rs, err := p.query.Eval(ctx, rego.EvalParsedInput(term.Value), rego.EvalTime(in.Context.Time))
	if cerr := ctx.Err(); cerr != nil {
		return failure(d, "policy.timeout", "Simplify the policy or raise its timeout; until then nothing is allowed.",
			fmt.Errorf("%w after %s: %w", ErrTimeout, p.timeout, cerr))
	}
	if err != nil {
		return failure(d, "policy.error", "Fix the policy error (run `hallmark policy test`); until then nothing is allowed.",
			fmt.Errorf("%w: %w", ErrEval, err))
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return failure(d, "policy.undefined", fmt.Sprintf("Make sure %s is defined for every input (give it a default).", p.entrypoint),
			fmt.Errorf("%w: %s has no value for this input", ErrUndefined, p.entrypoint))
	}
	if err := readDecision(rs[0].Expressions[0].Value, &d); err != nil {
		return failure(d, "policy.malformed", "Make the decision an object {allow: boolean, violations: [{ruleId, message, remediation, evidence}]} as docs/policy.md describes.",
			fmt.Errorf("%w: %s: %w", ErrMalformed, p.entrypoint, err))
	}
	return d, nil
}

// readDecision checks the decision document's shape and copies it into d.
func readDecision(v any, d *Decision) error {
	obj, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("decision is %s, not an object", jsonType(v))
	}
	allow, ok := obj["allow"].(bool)
	if !ok {
		return fmt.Errorf("allow is %s, not a boolean", jsonType(obj["allow"]))
	}
	raw, ok := obj["violations"].([]any)
	if !ok {
		return fmt.Errorf("violations is %s, not a set or array", jsonType(obj["violations"]))
	}
	vs := make([]Violation, 0, len(raw))
	for i, r := range raw {
		v, err := readViolation(r)
		if err != nil {
			return fmt.Errorf("violations[%d]: %w", i, err)
		}
		vs = append(vs, v)
	}
	level := 0
	if lv, present := obj["slsaBuildLevel"]; present {
		n, err := smallInt(lv)
		if err != nil || n < 0 || n > 3 {
			return fmt.Errorf("slsaBuildLevel is %v, not an integer from 0 to 3", lv)
		}
		level = n
	}
	slices.SortFunc(vs, func(a, b Violation) int {
		return cmp.Or(cmp.Compare(a.RuleID, b.RuleID), cmp.Compare(a.Message, b.Message), slices.Compare(a.Evidence, b.Evidence))
	})
	if !allow && len(vs) == 0 {
		vs = append(vs, Violation{
			RuleID:      "policy.denied",
			Message:     "the policy denied without giving a reason",
			Remediation: "Ask the policy owner to add a violation explaining this denial.",
		})
	}
	d.Allow = allow && len(vs) == 0
	d.Violations = vs
	d.SLSABuildLevel = level
	if level > 0 {
		d.VerifiedLevels = []string{fmt.Sprintf("SLSA_BUILD_LEVEL_%d", level)}
	}
	if sd, present := obj["sourceDirty"]; present {
		b, ok := sd.(bool)
		if !ok {
			return fmt.Errorf("sourceDirty is %s, not a boolean", jsonType(sd))
		}
		d.SourceDirty = b
	}
	if d.SourceDirty {
		d.VerifiedLevels = append(d.VerifiedLevels, SourceDirtyLevel)
	}
	return nil
}

func readViolation(r any) (Violation, error) {
	m, ok := r.(map[string]any)
	if !ok {
		return Violation{}, fmt.Errorf("is %s, not an object", jsonType(r))
	}
	var v Violation
	var err error
	if v.RuleID, err = stringField(m, "ruleId", true); err != nil {
		return v, err
	}
	if v.Message, err = stringField(m, "message", true); err != nil {
		return v, err
	}
	if v.Remediation, err = stringField(m, "remediation", false); err != nil {
		return v, err
	}
	if ev, present := m["evidence"]; present {
		arr, ok := ev.([]any)
		if !ok {
			return v, fmt.Errorf("evidence is %s, not an array", jsonType(ev))
		}
		for i, e := range arr {
			s, ok := e.(string)
			if !ok {
				return v, fmt.Errorf("evidence[%d] is %s, not a string", i, jsonType(e))
			}
			v.Evidence = append(v.Evidence, s)
		}
		slices.Sort(v.Evidence)
		v.Evidence = slices.Compact(v.Evidence)
	}
	return v, nil
}

func stringField(m map[string]any, name string, required bool) (string, error) {
	raw, present := m[name]
	if !present {
		if required {
			return "", fmt.Errorf("%s is missing", name)
		}
		return "", nil
	}
	s, ok := raw.(string)
	if !ok {
		return "", fmt.Errorf("%s is %s, not a string", name, jsonType(raw))
	}
	if required && strings.TrimSpace(s) == "" {
		return "", fmt.Errorf("%s is empty", name)
	}
	return s, nil
}

func smallInt(v any) (int, error) {
	n, ok := v.(interface{ Int64() (int64, error) })
	if !ok {
		return 0, errors.New("not a number")
	}
	i, err := n.Int64()
	if err != nil || i < -1<<31 || i > 1<<31 {
		return 0, errors.New("not a small integer")
	}
	return int(i), nil
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null or missing"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	default:
		if _, ok := v.(interface{ Int64() (int64, error) }); ok {
			return "a number"
		}
		return fmt.Sprintf("a %T", v)
	}
}
