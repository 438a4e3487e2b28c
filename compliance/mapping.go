package compliance

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"slices"

	"gopkg.in/yaml.v3"

	"github.com/hallmark-dev/hallmark/policy"
)

//go:embed controls.yaml
var controlsYAML []byte

// MappingVersion is the version of the embedded mapping this package reads.
const MappingVersion = 1

// ErrMapping reports an invalid control mapping.
var ErrMapping = errors.New("invalid control mapping")

// Coverage says how much of a requirement Hallmark's evidence checks.
type Coverage string

const (
	// CoverageFull: the evidence and rules check what the requirement asks.
	CoverageFull Coverage = "full"
	// CoveragePartial: they check part of it; Control.NotCovered says what
	// is left.
	CoveragePartial Coverage = "partial"
	// CoverageNone: Hallmark holds no evidence for it.
	CoverageNone Coverage = "none"
)

// Evidence kinds a control may require: the keys of the policy input's
// evidence, plus KindDecision.
const (
	// KindDecision is a gate decision recorded (signed by the gate) for
	// the artifact in the environment.
	KindDecision = "decision"
)

// evidenceKinds are the kinds a control may name.
var evidenceKinds = []string{"provenance", "rebuilds", "sbom", "vulns", "misconfig", "secrets", "tee", "approvals", KindDecision}

// ApplicableComponents restricts a control to artifacts whose verified SBOM
// lists third-party components.
const ApplicableComponents = "components"

// Mapping is the control mapping.
type Mapping struct {
	Version    int         `yaml:"version" json:"version"`
	Frameworks []Framework `yaml:"frameworks" json:"frameworks"`
	// Digest is the hex SHA-256 of the mapping file.
	Digest string `yaml:"-" json:"digest"`
}

// Framework is one standard or regulation.
type Framework struct {
	ID       string    `yaml:"id" json:"id"`
	Name     string    `yaml:"name" json:"name"`
	Version  string    `yaml:"version" json:"version"`
	Document string    `yaml:"document" json:"document"`
	Controls []Control `yaml:"controls" json:"controls"`
}

// Control is one requirement and what satisfies it.
type Control struct {
	ID    string `yaml:"id" json:"id"`
	Title string `yaml:"title" json:"title"`
	// Quoted is true when Title quotes the primary text; otherwise it is a
	// summary and the cited section is authoritative.
	Quoted   bool     `yaml:"quoted" json:"quoted"`
	Citation string   `yaml:"citation" json:"citation"`
	Coverage Coverage `yaml:"coverage" json:"coverage"`
	// Evidence kinds of which at least one verified item must exist.
	Evidence []string `yaml:"evidence" json:"evidence"`
	// Rules are built-in rule groups the environment's policy must enforce
	// without a violation.
	Rules []string `yaml:"rules" json:"rules"`
	// SLSABuildLevel is the SLSA Build level the evidence must meet.
	SLSABuildLevel int `yaml:"slsaBuildLevel" json:"slsaBuildLevel,omitempty"`
	// Applicability restricts when the control applies ("" always,
	// ApplicableComponents).
	Applicability string `yaml:"applicability" json:"applicability,omitempty"`
	// NotCovered says what the evidence cannot show.
	NotCovered string `yaml:"notCovered" json:"notCovered,omitempty"`
}

// Load returns the embedded mapping.
func Load() (*Mapping, error) { return Parse(controlsYAML) }

// MappingYAML returns the embedded mapping file.
func MappingYAML() []byte { return slices.Clone(controlsYAML) }

// Parse decodes and validates a mapping file (unknown fields refused).
func Parse(b []byte) (*Mapping, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var m Mapping
	if err := dec.Decode(&m); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: %v", ErrMapping, err)
	}
	if err := m.check(); err != nil {
		return nil, err
	}
	m.Digest = sha256Hex(b)
	return &m, nil
}

func (m *Mapping) check() error {
	if m.Version != MappingVersion {
		return fmt.Errorf("%w: version %d, want %d", ErrMapping, m.Version, MappingVersion)
	}
	if len(m.Frameworks) == 0 {
		return fmt.Errorf("%w: no frameworks", ErrMapping)
	}
	groups := policy.RuleGroups()
	fw := map[string]bool{}
	for _, f := range m.Frameworks {
		if f.ID == "" || f.Name == "" || f.Document == "" || fw[f.ID] {
			return fmt.Errorf("%w: framework %q needs a unique id, a name and a document", ErrMapping, f.ID)
		}
		fw[f.ID] = true
		ids := map[string]bool{}
		for _, c := range f.Controls {
			where := fmt.Sprintf("%s control %q", f.ID, c.ID)
			switch {
			case c.ID == "" || ids[c.ID]:
				return fmt.Errorf("%w: %s: empty or duplicate id", ErrMapping, where)
			case c.Title == "" || c.Citation == "":
				return fmt.Errorf("%w: %s: needs a title and a citation", ErrMapping, where)
			case c.SLSABuildLevel < 0 || c.SLSABuildLevel > 3:
				return fmt.Errorf("%w: %s: slsaBuildLevel %d, want 0-3", ErrMapping, where, c.SLSABuildLevel)
			case c.Applicability != "" && c.Applicability != ApplicableComponents:
				return fmt.Errorf("%w: %s: unknown applicability %q", ErrMapping, where, c.Applicability)
			}
			ids[c.ID] = true
			switch c.Coverage {
			case CoverageNone:
				if len(c.Evidence)+len(c.Rules) > 0 || c.SLSABuildLevel > 0 || c.NotCovered == "" {
					return fmt.Errorf("%w: %s: coverage none takes no evidence, rules or level, and needs notCovered", ErrMapping, where)
				}
			case CoverageFull, CoveragePartial:
				if len(c.Evidence) == 0 {
					return fmt.Errorf("%w: %s: coverage %s needs evidence", ErrMapping, where, c.Coverage)
				}
				if c.Coverage == CoveragePartial && c.NotCovered == "" {
					return fmt.Errorf("%w: %s: partial coverage needs notCovered", ErrMapping, where)
				}
			default:
				return fmt.Errorf("%w: %s: coverage %q, want full, partial or none", ErrMapping, where, c.Coverage)
			}
			for _, k := range c.Evidence {
				if !slices.Contains(evidenceKinds, k) {
					return fmt.Errorf("%w: %s: unknown evidence kind %q (have %v)", ErrMapping, where, k, evidenceKinds)
				}
			}
			for _, r := range c.Rules {
				if !slices.Contains(groups, r) {
					return fmt.Errorf("%w: %s: unknown rule group %q (have %v)", ErrMapping, where, r, groups)
				}
			}
		}
	}
	return nil
}
