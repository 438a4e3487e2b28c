package gate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/tee"
	"github.com/hallmark-dev/hallmark/trust"
)

// Errors for errors.Is.
var (
	ErrBadDigest          = errors.New("bad artifact digest")
	ErrUnknownEnvironment = errors.New("no policy for environment")
	ErrRecord             = errors.New("could not record the decision")
)

// Gate evaluates deployment requests. It is safe for concurrent use.
type Gate struct {
	tee        *tee.Registry
	teeRefs    *tee.ReferenceValues
	store      store.Store
	trust      *trust.Trust
	policies   map[string]*policy.Policy
	signer     *keys.PrivateKey
	verifierID string
	now        func() time.Time
	logger     *slog.Logger
	verifier   *verifier
	kinds      map[string]kind // kinds(): read only
	sources    []EvidenceSource
	index      IndexResolver // index.go
}

// Option configures New.
type Option func(*config) error

type config struct {
	tee           *tee.Registry
	teeRefs       *tee.ReferenceValues
	verifierID    string
	now           func() time.Time
	logger        *slog.Logger
	verifiedBytes int64
	sources       []EvidenceSource
	index         IndexResolver
	verifyOpts    []attest.VerifyOption // verifiedtime.go
}

// WithVerifierID sets the verifier.id written into VSAs.
func WithVerifierID(id string) Option {
	return func(c *config) error {
		if id == "" {
			return errors.New("gate.WithVerifierID: empty ID")
		}
		c.verifierID = id
		return nil
	}
}

// WithClock sets the clock (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(c *config) error { c.now = now; return nil }
}

// WithTEE lets the gate re-verify TEE attestations: the hardware evidence
// against the vendors' roots with reg, its binding to the artifact's
// provenance, and (when refs is not nil) its measurements. Without it, TEE
// evidence is listed as ignored.
func WithTEE(reg *tee.Registry, refs *tee.ReferenceValues) Option {
	return func(c *config) error { c.tee, c.teeRefs = reg, refs; return nil }
}

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error { c.logger = l; return nil }
}

// New builds a gate over a store and trust file, with one compiled policy
// per environment, signing its records with signer.
func New(st store.Store, tr *trust.Trust, policies map[string]*policy.Policy, signer *keys.PrivateKey, opts ...Option) (*Gate, error) {
	cfg := config{verifierID: DefaultVerifierID, now: time.Now, logger: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	switch {
	case st == nil:
		return nil, errors.New("gate: no store")
	case tr == nil:
		return nil, errors.New("gate: no trust file")
	case len(policies) == 0:
		return nil, errors.New("gate: no policies")
	case signer == nil:
		return nil, errors.New("gate: no signing key for decision records")
	}
	ks := kinds()
	v, err := newVerifier(tr.All(), ks, cfg.verifiedBytes, cfg.verifyOpts...)
	if err != nil {
		return nil, fmt.Errorf("gate: %w", err)
	}
	return &Gate{tee: cfg.tee, teeRefs: cfg.teeRefs, store: st, trust: tr, policies: policies, signer: signer, verifierID: cfg.verifierID, now: cfg.now, logger: cfg.logger, verifier: v, kinds: ks, sources: cfg.sources, index: cfg.index}, nil
}

// Environments lists the environments the gate has policies for.
func (g *Gate) Environments() []string {
	var out []string
	for e := range g.policies {
		out = append(out, e)
	}
	sort.Strings(out)
	return out
}

// PolicyDigest returns the digest of the environment's policy, or "".
func (g *Gate) PolicyDigest(env string) string {
	if p, ok := g.policies[env]; ok {
		return p.Digest()
	}
	return ""
}

// Request asks whether an artifact may be deployed to an environment.
type Request struct {
	// Artifact names the artifact; Digest is "sha256:<hex>".
	Artifact policy.Artifact
	// Environment selects the policy (e.g. "prod").
	Environment string
	// Requester says who asked (a user, a CI job, a Kubernetes user).
	Requester string
	// Source says where the request came from: "cli", "admission", "api".
	Source string
	// Workload says where an admission review would run the artifact; nil
	// for requests that deploy nothing themselves (CLI, API, recheck).
	Workload *Workload
	// Bundles are extra evidence not (yet) in the store.
	Bundles [][]byte
	// DryRun evaluates without recording: the Result carries the decision
	// but no VSA or deployment record (their IDs are empty). A dry run
	// (kubectl apply --dry-run=server, kubectl diff) deploys nothing, so
	// it must leave nothing on record that recheck would treat as deployed.
	DryRun bool
	// VSA also signs and stores a SLSA verification summary of the
	// decision, for callers that hand it on (the CLI and API gates).
	// Without it the decision record is the one signed record: admission
	// reviews leave the VSA out, and VSAIssuer derives one from any
	// recorded decision when someone asks.
	VSA bool
}

// Result is the outcome of one request.
type Result struct {
	// Decision is the policy's verdict.
	Decision policy.Decision
	// Input is what the policy saw.
	Input policy.Input
	// VSA is the stored, signed verification summary; zero for a dry run
	// and for a request without Request.VSA.
	VSA store.Record
	// Record is the stored, signed deployment decision; zero for a dry run.
	Record store.Record
}

// Evaluate decides one request and records the decision, unless the
// request is a dry run. Any error means the artifact must not be deployed:
// the gate fails closed.
func (g *Gate) Evaluate(ctx context.Context, req Request) (*Result, error) {
	if err := checkDigest(req.Artifact.Digest); err != nil {
		return nil, err
	}
	pol, ok := g.policies[req.Environment]
	if !ok {
		return nil, fmt.Errorf("%w %q (have %s)", ErrUnknownEnvironment, req.Environment, strings.Join(g.Environments(), ", "))
	}
	now := g.now().UTC()
	plats, err := g.platforms(ctx, req)
	if err != nil {
		return nil, err
	}
	if err := g.fromSources(ctx, &req, plats); err != nil {
		return nil, err
	}
	cov := newCoverage(plats)
	in, err := g.gather(ctx, req, now, cov)
	if err != nil {
		return nil, err
	}
	dec, err := pol.Eval(ctx, in)
	if err != nil {
		// Eval already returns a deny decision with the reason; keep it.
		g.logger.Warn("policy evaluation failed; denying", "artifact", req.Artifact.Digest, "environment", req.Environment, "error", err)
	}
	denyUncovered(&dec, cov.violations(req.Artifact.Digest))
	res := &Result{Decision: dec, Input: in}
	if req.DryRun {
		return res, nil
	}
	if err := g.record(ctx, req, res); err != nil {
		return res, fmt.Errorf("%w: %v", ErrRecord, err)
	}
	return res, nil
}

// record signs the deployment decision, and the VSA when the request asks
// for one, and stores them in one transaction when the store can batch.
func (g *Gate) record(ctx context.Context, req Request, res *Result) error {
	d := Decision{
		Artifact:       req.Artifact,
		Environment:    req.Environment,
		Allowed:        res.Decision.Allow,
		Violations:     nonNil(res.Decision.Violations),
		Policy:         PolicyRef{URI: res.Decision.PolicyURI, Digest: res.Decision.PolicyDigest},
		Evidence:       nonNil(usedEvidence(res.Input)),
		Ignored:        nonNil(res.Input.Ignored),
		DecidedAt:      res.Decision.Time,
		Requester:      req.Requester,
		Source:         req.Source,
		Workload:       req.Workload,
		SLSALevel:      res.Decision.SLSABuildLevel,
		VerifiedLevels: res.Decision.VerifiedLevels,
	}
	var signed []*attest.Verified
	if req.VSA {
		vsaV, err := g.VSAIssuer().sign(ctx, d)
		if err != nil {
			return fmt.Errorf("VSA: %w", err)
		}
		d.VSA = vsaV.ID
		signed = append(signed, vsaV)
	}
	decV, err := g.sign(ctx, decisionSubject(d), DecisionPredicateType, d)
	if err != nil {
		return fmt.Errorf("decision record: %w", err)
	}
	signed = append(signed, decV)
	recs, err := g.put(ctx, signed)
	if err != nil {
		return err
	}
	res.Record = recs[len(recs)-1]
	if req.VSA {
		res.VSA = recs[0]
	}
	return nil
}

// put stores records in one transaction when the store can batch.
func (g *Gate) put(ctx context.Context, vs []*attest.Verified) ([]store.Record, error) {
	if b, ok := g.store.(store.Batcher); ok {
		return b.PutAll(ctx, vs)
	}
	out := make([]store.Record, 0, len(vs))
	for _, v := range vs {
		r, err := g.store.Put(ctx, v)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func decisionSubject(d Decision) attest.Subject {
	return attest.Subject{Name: artifactName(d.Artifact), Digest: d.Artifact.Digest.Set()}
}

// sign makes a signed, verified statement about subject. The statement is
// serialized from the predicate's JSON directly (attest.SignPredicate):
// the gate signs at least one record per decision.
func (g *Gate) sign(ctx context.Context, subject attest.Subject, predicateType string, predicate any) (*attest.Verified, error) {
	return attest.SignPredicate(ctx, g.signer, []attest.Subject{subject}, predicateType, predicate)
}

func artifactName(a policy.Artifact) string {
	if a.Name != "" {
		return a.Name
	}
	return a.Digest.String()
}

func resourceURI(a policy.Artifact) string {
	if strings.Contains(a.Name, "://") || strings.Contains(a.Name, "@sha256:") {
		return a.Name
	}
	return "hallmark:artifact/" + a.Digest.String()
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
