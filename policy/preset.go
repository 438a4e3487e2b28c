package policy

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/hallmark-dev/hallmark/depcheck"
	"github.com/hallmark-dev/hallmark/finding"
	"github.com/hallmark-dev/hallmark/internal/limits"
	"github.com/open-policy-agent/opa/v1/ast"
)

// MaxPresetSize bounds a preset file.
const MaxPresetSize = 1 << 20

// PresetVersion is the preset file format version this package reads.
const PresetVersion = 1

// RuleGroups lists the rule groups of built-in library v1, in the order
// docs/policy.md documents them.
var ruleGroups = []string{
	"slsa_l1", "slsa_l2", "slsa_l3", "source", "reproducible", "vulns", "sbom",
	"licenses", "dependencies", "misconfig", "secrets", "tee", "approvals", "freshness",
	"transparency", "identity",
}

// RuleGroups returns the rule groups built-in library v1 offers.
func RuleGroups() []string { return slices.Clone(ruleGroups) }

// evidenceKinds are the keys of Input.Evidence.
var evidenceKinds = []string{"provenance", "rebuilds", "sbom", "vulns", "misconfig", "secrets", "tee", "approvals"}

// Preset is a parsed preset file: parameters of the built-in library per
// environment.
type Preset struct {
	Version      int               `yaml:"version"`
	Environments map[string]Params `yaml:"environments"`
}

// Params are the parameters of the built-in library for one environment:
// which rule groups to enforce and their settings. The policy sees them at
// data.hallmark.params with the JSON names below.
type Params struct {
	Rules        []string           `yaml:"rules" json:"rules"`
	SLSA         SLSAParams         `yaml:"slsa,omitempty" json:"slsa"`
	Source       SourceParams       `yaml:"source,omitempty" json:"source"`
	Reproducible ReproducibleParams `yaml:"reproducible,omitempty" json:"reproducible"`
	Vulns        VulnsParams        `yaml:"vulns,omitempty" json:"vulns"`
	Licenses     DenyParams         `yaml:"licenses,omitempty" json:"licenses"`
	Dependencies DenyParams         `yaml:"dependencies,omitempty" json:"dependencies"`
	Misconfig    FindingParams      `yaml:"misconfig,omitempty" json:"misconfig"`
	Secrets      FindingParams      `yaml:"secrets,omitempty" json:"secrets"`
	TEE          TEEParams          `yaml:"tee,omitempty" json:"tee"`
	Approvals    ApprovalParams     `yaml:"approvals,omitempty" json:"approvals"`
	Freshness    FreshnessParams    `yaml:"freshness,omitempty" json:"freshness"`
	Transparency TransparencyParams `yaml:"transparency,omitempty" json:"transparency"`
	Identity     IdentityParams     `yaml:"identity,omitempty" json:"identity"`
}

// IdentityParams constrain the keyless identity that signed provenance, as
// its Fulcio certificate names it: source repositories (exact), ref globs
// and workflow-file globs (".github/workflows/release.yml"); empty lists
// allow any value.
type IdentityParams struct {
	Repositories []string `yaml:"repositories,omitempty" json:"repositories"`
	Refs         []string `yaml:"refs,omitempty" json:"refs"`
	Workflows    []string `yaml:"workflows,omitempty" json:"workflows"`
}

// TransparencyParams name the evidence kinds whose every item about the
// artifact must have verified with a transparency-log entry (Logged) or an
// RFC 3161 timestamp (Timestamped) against the gate's trusted root.
type TransparencyParams struct {
	Logged      []string `yaml:"logged,omitempty" json:"logged"`
	Timestamped []string `yaml:"timestamped,omitempty" json:"timestamped"`
}

// SLSAParams: Builders are the builder IDs allowed for SLSA Build L3.
type SLSAParams struct {
	Builders []string `yaml:"builders,omitempty" json:"builders"`
}

// SourceParams constrain the source: allowed repositories and ref globs
// (empty allows any) and, when not empty, the only allowed commits. Builds
// from a dirty tree (or that changed tracked files) are denied unless
// AllowDirtyUnsafe is true.
type SourceParams struct {
	Repositories     []string `yaml:"repositories" json:"repositories"`
	Refs             []string `yaml:"refs" json:"refs"`
	Commits          []string `yaml:"commits" json:"commits"`
	AllowDirtyUnsafe bool     `yaml:"allowDirtyUnsafe" json:"allowDirtyUnsafe"`
}

// ReproducibleParams: MinRebuilders is k, the distinct trusted rebuilders
// that must reproduce the digest.
type ReproducibleParams struct {
	MinRebuilders int `yaml:"minRebuilders,omitempty" json:"minRebuilders"`
}

// VulnsParams: findings at or above FailAt with a fix fail; UnknownSeverity
// is "fail" or "ignore"; scans and their database must be no older than the
// given number of days.
type VulnsParams struct {
	FailAt          finding.Severity `yaml:"failAt,omitempty" json:"failAt"`
	UnknownSeverity string           `yaml:"unknownSeverity,omitempty" json:"unknownSeverity"`
	MaxScanAgeDays  int              `yaml:"maxScanAgeDays,omitempty" json:"maxScanAgeDays"`
	MaxDBAgeDays    int              `yaml:"maxDBAgeDays,omitempty" json:"maxDBAgeDays"`
}

// DenyParams list denied licence IDs or package URL globs.
type DenyParams struct {
	Denied []string `yaml:"denied,omitempty" json:"denied"`
}

// FindingParams: misconfiguration or secret findings at or above FailAt
// fail; scanner suppressions count only when HonorSuppressions is true.
type FindingParams struct {
	FailAt            finding.Severity `yaml:"failAt,omitempty" json:"failAt"`
	HonorSuppressions bool             `yaml:"honorSuppressions,omitempty" json:"honorSuppressions"`
}

// TEEParams: allowed platforms (empty allows any), whether debug TEEs pass,
// and reference values: platform -> measurement name -> allowed hex values.
type TEEParams struct {
	Platforms  []string                       `yaml:"platforms,omitempty" json:"platforms"`
	AllowDebug bool                           `yaml:"allowDebug,omitempty" json:"allowDebug"`
	Reference  map[string]map[string][]string `yaml:"reference,omitempty" json:"reference"`
}

// ApprovalParams: Min is m, the distinct trusted approvers required; when
// MaxAgeDays is above zero older approvals do not count.
type ApprovalParams struct {
	Min        int `yaml:"min,omitempty" json:"min"`
	MaxAgeDays int `yaml:"maxAgeDays,omitempty" json:"maxAgeDays"`
}

// FreshnessParams: MaxAgeDays maps an evidence kind to its maximum age;
// ClockSkewSeconds is how far in the future evidence may be dated.
type FreshnessParams struct {
	MaxAgeDays       map[string]int `yaml:"maxAgeDays,omitempty" json:"maxAgeDays"`
	ClockSkewSeconds int            `yaml:"clockSkewSeconds,omitempty" json:"clockSkewSeconds"`
}

// ParsePreset decodes and validates a preset file (YAML, at most
// MaxPresetSize bytes, unknown fields refused). Every environment is
// validated, so a typo in prod fails even when dev is requested.
func ParsePreset(data []byte) (*Preset, error) {
	if len(data) > MaxPresetSize {
		return nil, &PresetError{Err: fmt.Errorf("%w: %w (%d bytes, limit %d)", ErrPreset, limits.ErrTooLarge, len(data), MaxPresetSize)}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var p Preset
	if err := dec.Decode(&p); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &PresetError{Err: fmt.Errorf("%w: empty file", ErrPreset)}
		}
		return nil, &PresetError{Err: fmt.Errorf("%w: %w", ErrPreset, err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, &PresetError{Err: fmt.Errorf("%w: more than one YAML document", ErrPreset)}
	}
	if p.Version != PresetVersion {
		return nil, &PresetError{Field: "version", Err: fmt.Errorf("%w: version %d, want %d", ErrPreset, p.Version, PresetVersion)}
	}
	if len(p.Environments) == 0 {
		return nil, &PresetError{Field: "environments", Err: fmt.Errorf("%w: no environments", ErrPreset)}
	}
	for _, env := range p.EnvironmentNames() {
		if strings.TrimSpace(env) == "" {
			return nil, &PresetError{Field: "environments", Err: fmt.Errorf("%w: empty environment name", ErrPreset)}
		}
		params := p.Environments[env]
		if err := params.normalize(); err != nil {
			var pe *PresetError
			if errors.As(err, &pe) {
				pe.Environment = env
			}
			return nil, err
		}
		p.Environments[env] = params
	}
	return &p, nil
}

// EnvironmentNames returns the environments in the preset, sorted.
func (p *Preset) EnvironmentNames() []string {
	names := make([]string, 0, len(p.Environments))
	for n := range p.Environments {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Params returns the parameters of one environment.
func (p *Preset) Params(env string) (Params, error) {
	params, ok := p.Environments[env]
	if !ok {
		return Params{}, &PresetError{Environment: env, Err: fmt.Errorf("%w: no such environment (have %s)", ErrPreset, strings.Join(p.EnvironmentNames(), ", "))}
	}
	return params, nil
}

func fieldErr(field, format string, args ...any) error {
	return &PresetError{Field: field, Err: fmt.Errorf("%w: "+format, append([]any{ErrPreset}, args...)...)}
}

// normalize validates the parameters and lower-cases reference hex values.
func (p *Params) normalize() error {
	if len(p.Rules) == 0 {
		return fieldErr("rules", "no rule groups selected (choose from %s)", strings.Join(ruleGroups, ", "))
	}
	seen := map[string]bool{}
	for _, r := range p.Rules {
		if !slices.Contains(ruleGroups, r) {
			return fieldErr("rules", "unknown rule group %q (choose from %s)", r, strings.Join(ruleGroups, ", "))
		}
		if seen[r] {
			return fieldErr("rules", "rule group %q listed twice", r)
		}
		seen[r] = true
	}
	if seen["slsa_l3"] && len(p.SLSA.Builders) == 0 {
		return fieldErr("slsa.builders", "slsa_l3 needs at least one allowed builder ID")
	}
	if seen["reproducible"] && p.Reproducible.MinRebuilders < 1 {
		return fieldErr("reproducible.minRebuilders", "must be at least 1, got %d", p.Reproducible.MinRebuilders)
	}
	if seen["vulns"] {
		v := p.Vulns
		switch {
		case v.FailAt == finding.SeverityUnknown:
			return fieldErr("vulns.failAt", "set a severity threshold (info, low, medium, high, critical)")
		case v.UnknownSeverity != "fail" && v.UnknownSeverity != "ignore":
			return fieldErr("vulns.unknownSeverity", "must be \"fail\" or \"ignore\", got %q", v.UnknownSeverity)
		case v.MaxScanAgeDays < 1:
			return fieldErr("vulns.maxScanAgeDays", "must be at least 1, got %d", v.MaxScanAgeDays)
		case v.MaxDBAgeDays < 1:
			return fieldErr("vulns.maxDBAgeDays", "must be at least 1, got %d", v.MaxDBAgeDays)
		}
	}
	if seen["licenses"] && len(p.Licenses.Denied) == 0 {
		return fieldErr("licenses.denied", "the licenses group needs at least one denied licence")
	}
	if seen["dependencies"] && len(p.Dependencies.Denied) == 0 {
		return fieldErr("dependencies.denied", "the dependencies group needs at least one denied package URL")
	}
	// Deny lists are matched against the canonical forms the gate puts in
	// the input (depcheck.CanonicalPURL, depcheck.CanonicalLicenseID): an
	// "agpl-3.0-only" or "pkg:pypi/CTX" written here means what it says.
	for i, id := range p.Licenses.Denied {
		p.Licenses.Denied[i] = depcheck.CanonicalLicenseID(strings.TrimSpace(id))
	}
	for i, pattern := range p.Dependencies.Denied {
		p.Dependencies.Denied[i] = depcheck.CanonicalPURLPattern(pattern)
	}
	for name, fp := range map[string]FindingParams{"misconfig": p.Misconfig, "secrets": p.Secrets} {
		if seen[name] && fp.FailAt == finding.SeverityUnknown {
			return fieldErr(name+".failAt", "set a severity threshold (info, low, medium, high, critical)")
		}
	}
	if seen["tee"] && len(p.TEE.Reference) == 0 {
		return fieldErr("tee.reference", "the tee group needs reference values for at least one platform")
	}
	reference := make(map[string]map[string][]string, len(p.TEE.Reference))
	for platform, ms := range p.TEE.Reference {
		reference[platform] = make(map[string][]string, len(ms))
		for name, values := range ms {
			if len(values) == 0 {
				return fieldErr("tee.reference."+platform+"."+name, "no reference values")
			}
			lower := make([]string, len(values))
			for i, v := range values {
				lower[i] = strings.ToLower(v)
				if _, err := hex.DecodeString(lower[i]); err != nil || v == "" {
					return fieldErr(fmt.Sprintf("tee.reference.%s.%s[%d]", platform, name, i), "%q is not hex", v)
				}
			}
			reference[platform][name] = lower
		}
	}
	p.TEE.Reference = reference
	if seen["approvals"] && p.Approvals.Min < 1 {
		return fieldErr("approvals.min", "must be at least 1, got %d", p.Approvals.Min)
	}
	if p.Approvals.MaxAgeDays < 0 {
		return fieldErr("approvals.maxAgeDays", "must not be negative")
	}
	for kind, days := range p.Freshness.MaxAgeDays {
		if !slices.Contains(evidenceKinds, kind) {
			return fieldErr("freshness.maxAgeDays", "unknown evidence kind %q (choose from %s)", kind, strings.Join(evidenceKinds, ", "))
		}
		if days < 1 {
			return fieldErr("freshness.maxAgeDays."+kind, "must be at least 1, got %d", days)
		}
	}
	if p.Freshness.ClockSkewSeconds < 0 {
		return fieldErr("freshness.clockSkewSeconds", "must not be negative")
	}
	for field, kinds := range map[string][]string{"transparency.logged": p.Transparency.Logged, "transparency.timestamped": p.Transparency.Timestamped} {
		for _, kind := range kinds {
			if !slices.Contains(evidenceKinds, kind) {
				return fieldErr(field, "unknown evidence kind %q (choose from %s)", kind, strings.Join(evidenceKinds, ", "))
			}
		}
	}
	if seen["transparency"] && len(p.Transparency.Logged) == 0 && len(p.Transparency.Timestamped) == 0 {
		return fieldErr("transparency", "the rule group is selected but names no evidence kind under logged or timestamped")
	}
	return nil
}

// CheckParams reports whether p is valid built-in library parameters, as
// WithParams and CompilePreset require; use it after changing parameters
// taken from a preset, e.g. setting TEE reference values from a trust file.
func CheckParams(p Params) error {
	_, err := p.document()
	return err
}

// document presents the parameters as a JSON data document with empty
// collections (never null) where nothing was given.
func (p Params) document() (any, error) {
	cp := p
	if err := cp.normalize(); err != nil {
		return nil, err
	}
	t, err := toValue(reflect.ValueOf(cp))
	if err != nil {
		return nil, fmt.Errorf("%w: parameters: %w", ErrOption, err)
	}
	return ast.JSON(t.Value)
}
