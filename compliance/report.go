package compliance

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hallmark-dev/hallmark/policy"
)

// ReportPredicateType is the in-toto predicate type of a signed report.
const ReportPredicateType = "https://hallmark.dev/report/v1"

// Status is the verdict on one control for one artifact.
type Status string

const (
	// Satisfied: every evidence kind, level and rule the control names is
	// present, met and enforced without violation.
	Satisfied Status = "satisfied"
	// NotSatisfied: something the control needs is missing or violated;
	// Reasons say what.
	NotSatisfied Status = "not_satisfied"
	// NotApplicable: the control's condition does not hold for the
	// artifact (e.g. no third-party components).
	NotApplicable Status = "not_applicable"
	// NotCovered: Hallmark holds no evidence for the control.
	NotCovered Status = "not_covered"
)

// Statuses lists every status, in report order.
func Statuses() []Status { return []Status{Satisfied, NotSatisfied, NotApplicable, NotCovered} }

// Facts is what the gate verified about one artifact for one environment.
// Only verified values belong here: Input and Decision come from a gate
// evaluation (a dry run), Deployments from gate decision records verified
// against the trust file.
type Facts struct {
	Input    policy.Input
	Decision policy.Decision
	// EnforcedRules are the built-in rule groups the environment's policy
	// enforces; nil when the policy is not a built-in preset, in which case
	// no rule-based control can be satisfied.
	EnforcedRules []string
	// Deployments are the verified decision records about the artifact in
	// the environment.
	Deployments []Deployment
	// SignerName names a key ID as the trust file does ("" if unnamed).
	SignerName func(keyID string) string
}

// Deployment is one verified gate decision record.
type Deployment struct {
	ID          string    `json:"id"`
	Environment string    `json:"environment"`
	Allowed     bool      `json:"allowed"`
	DecidedAt   time.Time `json:"decidedAt"`
	Source      string    `json:"source,omitempty"`
	Requester   string    `json:"requester,omitempty"`
	Workload    string    `json:"workload,omitempty"`
	VSA         string    `json:"vsa,omitempty"`
	SLSALevel   int       `json:"slsaBuildLevel"`
}

// Report is the compliance report: per artifact, per framework, per
// control, a verdict and the verified evidence behind it.
type Report struct {
	Type        string           `json:"type"`
	GeneratedAt time.Time        `json:"generatedAt"`
	Scope       Scope            `json:"scope"`
	Mapping     MappingRef       `json:"mapping"`
	Artifacts   []ArtifactReport `json:"artifacts"`
	// VulnerabilityHandling is filled by AddVulnerabilityHandling.
	VulnerabilityHandling []HandledVulnerability `json:"vulnerabilityHandling"`
}

// ReportType is Report.Type.
const ReportType = "https://hallmark.dev/report/v1"

// Scope says what the report covers. Since and Until bound the deployment
// decisions listed; evidence is judged as of GeneratedAt.
type Scope struct {
	Artifact    string     `json:"artifact,omitempty"`
	Environment string     `json:"environment"`
	Since       *time.Time `json:"since,omitempty"`
	Until       *time.Time `json:"until,omitempty"`
}

// MappingRef names the mapping the controls were judged by.
type MappingRef struct {
	Version int    `json:"version"`
	Digest  string `json:"digest"`
}

// ArtifactReport is the report on one artifact.
type ArtifactReport struct {
	Artifact        policy.Artifact   `json:"artifact"`
	Environment     string            `json:"environment"`
	Decision        DecisionSummary   `json:"decision"`
	EnforcedRules   []string          `json:"enforcedRules"`
	Evidence        []EvidenceRef     `json:"evidence"`
	Ignored         []policy.Ignored  `json:"ignored"`
	Vulnerabilities []Vulnerability   `json:"vulnerabilities"`
	Deployments     []Deployment      `json:"deployments"`
	Frameworks      []FrameworkResult `json:"frameworks"`
}

// DecisionSummary is the policy decision the report re-evaluated.
type DecisionSummary struct {
	Allow          bool               `json:"allow"`
	SLSABuildLevel int                `json:"slsaBuildLevel"`
	VerifiedLevels []string           `json:"verifiedLevels"`
	Violations     []policy.Violation `json:"violations"`
	PolicyURI      string             `json:"policyUri"`
	PolicyDigest   string             `json:"policyDigest"`
	Time           time.Time          `json:"time"`
}

// EvidenceRef is one verified, trusted evidence item.
type EvidenceRef struct {
	ID            string    `json:"id"`
	Kind          string    `json:"kind"`
	PredicateType string    `json:"predicateType"`
	SignerKeyID   string    `json:"signerKeyId"`
	SignerName    string    `json:"signerName"`
	Timestamp     time.Time `json:"timestamp"`
}

// Vulnerability is one finding of a verified vulnerability scan. Open is
// false when a trusted VEX statement says not_affected or fixed.
type Vulnerability struct {
	ID           string `json:"id"`
	Package      string `json:"package"`
	Severity     string `json:"severity"`
	FixedVersion string `json:"fixedVersion,omitempty"`
	VEXStatus    string `json:"vexStatus,omitempty"`
	Open         bool   `json:"open"`
	Scan         string `json:"scan"`
}

// FrameworkResult is the verdicts on one framework's controls.
type FrameworkResult struct {
	ID       string          `json:"id"`
	Name     string          `json:"name"`
	Version  string          `json:"version"`
	Document string          `json:"document"`
	Summary  map[Status]int  `json:"summary"`
	Controls []ControlResult `json:"controls"`
}

// ControlResult is the verdict on one control.
type ControlResult struct {
	ID         string       `json:"id"`
	Title      string       `json:"title"`
	Quoted     bool         `json:"quoted"`
	Citation   string       `json:"citation"`
	Coverage   Coverage     `json:"coverage"`
	Status     Status       `json:"status"`
	Reasons    []string     `json:"reasons"`
	Evidence   []string     `json:"evidence"`
	Rules      []RuleResult `json:"rules"`
	NotCovered string       `json:"notCovered,omitempty"`
}

// RuleResult is one rule group a control relies on.
type RuleResult struct {
	Group      string   `json:"group"`
	Enforced   bool     `json:"enforced"`
	Violations []string `json:"violations"`
}

// Build judges every control of m for each artifact's facts.
func Build(m *Mapping, scope Scope, now time.Time, facts []Facts) *Report {
	r := &Report{Type: ReportType, GeneratedAt: now.UTC(), Scope: scope, Mapping: MappingRef{Version: m.Version, Digest: m.Digest}, Artifacts: []ArtifactReport{}, VulnerabilityHandling: []HandledVulnerability{}}
	for i := range facts {
		r.Artifacts = append(r.Artifacts, judgeArtifact(m, &facts[i]))
	}
	return r
}

func judgeArtifact(m *Mapping, f *Facts) ArtifactReport {
	name := f.SignerName
	if name == nil {
		name = func(string) string { return "" }
	}
	d := f.Decision
	ar := ArtifactReport{
		Artifact:    f.Input.Artifact,
		Environment: f.Input.Context.Environment,
		Decision: DecisionSummary{Allow: d.Allow, SLSABuildLevel: d.SLSABuildLevel, VerifiedLevels: nonNil(d.VerifiedLevels),
			Violations: nonNil(d.Violations), PolicyURI: d.PolicyURI, PolicyDigest: d.PolicyDigest, Time: d.Time},
		EnforcedRules:   nonNil(f.EnforcedRules),
		Evidence:        []EvidenceRef{},
		Ignored:         nonNil(f.Input.Ignored),
		Vulnerabilities: []Vulnerability{},
		Deployments:     nonNil(f.Deployments),
	}
	byKind := map[string][]string{}
	add := func(kind string, mt policy.Meta) {
		ar.Evidence = append(ar.Evidence, EvidenceRef{ID: mt.ID, Kind: kind, PredicateType: mt.PredicateType, SignerKeyID: mt.Signer.KeyID, SignerName: name(mt.Signer.KeyID), Timestamp: mt.Timestamp})
		byKind[kind] = append(byKind[kind], mt.ID)
	}
	e := f.Input.Evidence
	for _, x := range e.Provenance {
		add("provenance", x.Meta)
	}
	for _, x := range e.Rebuilds {
		add("rebuilds", x.Meta)
	}
	components := 0
	for _, x := range e.SBOM {
		add("sbom", x.Meta)
		components += x.ComponentCount
	}
	for _, x := range e.Vulns {
		add("vulns", x.Meta)
		for _, v := range x.Findings {
			open := v.VEXStatus != "not_affected" && v.VEXStatus != "fixed"
			ar.Vulnerabilities = append(ar.Vulnerabilities, Vulnerability{ID: v.ID, Package: v.Package, Severity: v.Severity.String(), FixedVersion: v.FixedVersion, VEXStatus: v.VEXStatus, Open: open, Scan: x.ID})
		}
	}
	for _, x := range e.Misconfig {
		add("misconfig", x.Meta)
	}
	for _, x := range e.Secrets {
		add("secrets", x.Meta)
	}
	for _, x := range e.TEE {
		add("tee", x.Meta)
	}
	for _, x := range e.Approvals {
		add("approvals", x.Meta)
	}
	// The gate lists evidence in the order it found it (store, then extra
	// bundles), which differs between the live store and an export; the
	// report must not.
	rank := map[string]int{}
	for i, k := range evidenceKinds {
		rank[k] = i
	}
	sort.SliceStable(ar.Evidence, func(i, j int) bool {
		a, b := ar.Evidence[i], ar.Evidence[j]
		if a.Kind != b.Kind {
			return rank[a.Kind] < rank[b.Kind]
		}
		if !a.Timestamp.Equal(b.Timestamp) {
			return a.Timestamp.Before(b.Timestamp)
		}
		return a.ID < b.ID
	})
	sort.SliceStable(ar.Vulnerabilities, func(i, j int) bool {
		a, b := ar.Vulnerabilities[i], ar.Vulnerabilities[j]
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		if a.Package != b.Package {
			return a.Package < b.Package
		}
		return a.Scan < b.Scan
	})
	// Newest decision first, by decision time (not by when a store
	// received the record, which an export's scratch store changes).
	ar.Deployments = slices.Clone(ar.Deployments)
	sort.SliceStable(ar.Deployments, func(i, j int) bool {
		a, b := ar.Deployments[i], ar.Deployments[j]
		if !a.DecidedAt.Equal(b.DecidedAt) {
			return a.DecidedAt.After(b.DecidedAt)
		}
		return a.ID < b.ID
	})
	for _, dep := range f.Deployments {
		byKind[KindDecision] = append(byKind[KindDecision], dep.ID)
	}
	violations := map[string][]string{}
	evalFailed := ""
	groups := policy.RuleGroups()
	for _, v := range d.Violations {
		g, _, _ := strings.Cut(v.RuleID, ".")
		if !slices.Contains(groups, g) {
			// policy.error and the like: the evaluation itself failed, so
			// the absence of a rule's violation proves nothing.
			evalFailed = v.RuleID + ": " + v.Message
			continue
		}
		violations[g] = append(violations[g], v.RuleID)
	}
	for _, fw := range m.Frameworks {
		fr := FrameworkResult{ID: fw.ID, Name: fw.Name, Version: fw.Version, Document: fw.Document, Summary: map[Status]int{}, Controls: []ControlResult{}}
		for _, s := range Statuses() {
			fr.Summary[s] = 0
		}
		for _, c := range fw.Controls {
			cr := judge(c, f, byKind, violations, evalFailed, components, len(e.SBOM) > 0)
			fr.Summary[cr.Status]++
			fr.Controls = append(fr.Controls, cr)
		}
		ar.Frameworks = append(ar.Frameworks, fr)
	}
	return ar
}

func judge(c Control, f *Facts, byKind, violations map[string][]string, evalFailed string, components int, haveSBOM bool) ControlResult {
	cr := ControlResult{ID: c.ID, Title: c.Title, Quoted: c.Quoted, Citation: c.Citation, Coverage: c.Coverage, Reasons: []string{}, Evidence: []string{}, Rules: []RuleResult{}, NotCovered: c.NotCovered}
	if c.Coverage == CoverageNone {
		cr.Status = NotCovered
		return cr
	}
	if c.Applicability == ApplicableComponents && haveSBOM && components == 0 {
		cr.Status = NotApplicable
		cr.Reasons = append(cr.Reasons, "the verified SBOM lists no third-party components")
		return cr
	}
	for _, k := range c.Evidence {
		ids := byKind[k]
		if len(ids) == 0 {
			cr.Reasons = append(cr.Reasons, fmt.Sprintf("no verified %s evidence", kindLabel(k)))
		}
		cr.Evidence = append(cr.Evidence, ids...)
	}
	if c.SLSABuildLevel > 0 && f.Decision.SLSABuildLevel < c.SLSABuildLevel {
		cr.Reasons = append(cr.Reasons, fmt.Sprintf("the verified evidence meets SLSA Build L%d, not L%d", f.Decision.SLSABuildLevel, c.SLSABuildLevel))
	}
	if len(c.Rules) > 0 && evalFailed != "" {
		cr.Reasons = append(cr.Reasons, "the policy evaluation failed: "+evalFailed)
	}
	for _, g := range c.Rules {
		rr := RuleResult{Group: g, Enforced: slices.Contains(f.EnforcedRules, g), Violations: nonNil(violations[g])}
		switch {
		case !rr.Enforced:
			cr.Reasons = append(cr.Reasons, fmt.Sprintf("rule group %s is not enforced by the policy for %s", g, f.Input.Context.Environment))
		case len(rr.Violations) > 0:
			cr.Reasons = append(cr.Reasons, fmt.Sprintf("rule group %s reports %s", g, strings.Join(rr.Violations, ", ")))
		}
		cr.Rules = append(cr.Rules, rr)
	}
	sort.Strings(cr.Evidence)
	cr.Evidence = slices.Compact(cr.Evidence)
	cr.Status = Satisfied
	if len(cr.Reasons) > 0 {
		cr.Status = NotSatisfied
	}
	return cr
}

func kindLabel(k string) string {
	switch k {
	case KindDecision:
		return "recorded gate decision"
	case "vulns":
		return "vulnerability scan"
	case "misconfig":
		return "misconfiguration scan"
	case "secrets":
		return "secret scan"
	case "rebuilds":
		return "rebuild"
	case "approvals":
		return "approval"
	case "sbom":
		return "SBOM"
	case "tee":
		return "TEE"
	}
	return k
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
