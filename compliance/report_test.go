package compliance_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hallmark-dev/hallmark/compliance"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/finding"
	"github.com/hallmark-dev/hallmark/policy"
)

var now = time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)

const art = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

func meta(n int, pt string) policy.Meta {
	return policy.Meta{ID: fmt.Sprintf("sha256:%064x", n), PredicateType: pt, Timestamp: now.Add(-time.Hour),
		Signer: policy.Signer{KeyID: fmt.Sprintf("key-%d", n)}, Subjects: []string{art}}
}

// fullFacts is an artifact with every kind of evidence, an allowing prod
// decision at SLSA Build L3 under a policy enforcing every rule group, and
// one recorded deployment.
func fullFacts() compliance.Facts {
	return compliance.Facts{
		Input: policy.Input{
			Artifact: policy.Artifact{Digest: digest.MustParse(art), Name: "app"},
			Context:  policy.Context{Environment: "prod", Time: now},
			Evidence: policy.Evidence{
				Provenance: []policy.Provenance{{Meta: meta(1, "https://slsa.dev/provenance/v1")}},
				Rebuilds:   []policy.Rebuild{{Meta: meta(2, "r"), Artifact: art, Matched: true}},
				SBOM:       []policy.SBOM{{Meta: meta(3, "https://cyclonedx.org/bom"), Format: "cyclonedx", ComponentCount: 1, Components: []policy.Component{{Name: "lodash", Version: "4.17.21"}}}},
				Vulns: []policy.VulnScan{{Meta: meta(4, "v"), Findings: []policy.VulnFinding{
					{ID: "GHSA-1", Package: "lodash", Severity: finding.SeverityLow},
					{ID: "GHSA-2", Package: "lodash", Severity: finding.SeverityHigh, VEXStatus: "not_affected"},
				}}},
				Misconfig: []policy.Scan{{Meta: meta(5, "m")}},
				Secrets:   []policy.Scan{{Meta: meta(6, "s")}},
				Approvals: []policy.Approval{{Meta: meta(7, "a")}},
			},
		},
		Decision:      policy.Decision{Allow: true, SLSABuildLevel: 3, VerifiedLevels: []string{"SLSA_BUILD_LEVEL_3"}, PolicyURI: "builtin", PolicyDigest: "ab", Time: now, Artifact: art, Environment: "prod"},
		EnforcedRules: policy.RuleGroups(),
		Deployments:   []compliance.Deployment{{ID: fmt.Sprintf("sha256:%064x", 9), Environment: "prod", Allowed: true, DecidedAt: now, VSA: fmt.Sprintf("sha256:%064x", 10), SLSALevel: 3}},
		SignerName:    func(id string) string { return "name-of-" + id },
	}
}

func build(t *testing.T, f compliance.Facts) map[string]compliance.ControlResult {
	t.Helper()
	m, err := compliance.Load()
	if err != nil {
		t.Fatal(err)
	}
	r := compliance.Build(m, compliance.Scope{Artifact: art, Environment: "prod"}, now, []compliance.Facts{f})
	out := map[string]compliance.ControlResult{}
	for _, fw := range r.Artifacts[0].Frameworks {
		for _, c := range fw.Controls {
			out[fw.ID+"/"+c.ID] = c
		}
	}
	return out
}

// TestFullEvidenceSatisfiesEveryCoveredControl: with every kind of
// evidence and no violation, each control Hallmark covers is satisfied and
// each it does not is reported as not covered, never as satisfied.
func TestFullEvidenceSatisfiesEveryCoveredControl(t *testing.T) {
	m, _ := compliance.Load()
	got := build(t, fullFacts())
	for _, fw := range m.Frameworks {
		for _, c := range fw.Controls {
			r := got[fw.ID+"/"+c.ID]
			want := compliance.Satisfied
			if c.Coverage == compliance.CoverageNone {
				want = compliance.NotCovered
			}
			if r.Status != want {
				t.Errorf("%s %s: %s (%v), want %s", fw.ID, c.ID, r.Status, r.Reasons, want)
			}
		}
	}
}

// TestControlsLoseTheirEvidence is the per-framework test the mapping
// promises: for every control of every framework, removing any one
// evidence kind it names, breaking any one rule group it relies on, or
// lowering the SLSA level below what it needs makes it not satisfied.
func TestControlsLoseTheirEvidence(t *testing.T) {
	m, _ := compliance.Load()
	for _, fw := range m.Frameworks {
		t.Run(fw.ID, func(t *testing.T) {
			covered := 0
			for _, c := range fw.Controls {
				if c.Coverage == compliance.CoverageNone {
					continue
				}
				covered++
				key := fw.ID + "/" + c.ID
				for _, k := range c.Evidence {
					f := fullFacts()
					drop(&f, k)
					if r := build(t, f)[key]; r.Status != compliance.NotSatisfied {
						t.Errorf("%s without %s evidence: %s, want not_satisfied", c.ID, k, r.Status)
					}
				}
				for _, g := range c.Rules {
					f := fullFacts()
					f.Decision.Allow = false
					f.Decision.Violations = []policy.Violation{{RuleID: g + ".broken", Message: "x"}}
					if r := build(t, f)[key]; r.Status != compliance.NotSatisfied || !strings.Contains(strings.Join(r.Reasons, " "), g+".broken") {
						t.Errorf("%s with a %s violation: %s %v", c.ID, g, r.Status, r.Reasons)
					}
					f = fullFacts()
					f.EnforcedRules = without(policy.RuleGroups(), g)
					if r := build(t, f)[key]; r.Status != compliance.NotSatisfied {
						t.Errorf("%s with %s not enforced: %s, want not_satisfied", c.ID, g, r.Status)
					}
				}
				if c.SLSABuildLevel > 0 {
					f := fullFacts()
					f.Decision.SLSABuildLevel = c.SLSABuildLevel - 1
					if r := build(t, f)[key]; r.Status != compliance.NotSatisfied {
						t.Errorf("%s at SLSA L%d: %s, want not_satisfied", c.ID, c.SLSABuildLevel-1, r.Status)
					}
				}
			}
			if covered == 0 {
				t.Fatalf("%s maps no control to evidence", fw.ID)
			}
		})
	}
}

// TestNamedControls pins the verdicts auditors ask about by name.
func TestNamedControls(t *testing.T) {
	f := fullFacts()
	f.Input.Evidence.SBOM = nil
	if r := build(t, f)["cra/CRA-II-1"]; r.Status != compliance.NotSatisfied || !strings.Contains(r.Reasons[0], "SBOM") {
		t.Errorf("CRA Annex I Part II (1) without an SBOM: %s %v", r.Status, r.Reasons)
	}
	f = fullFacts()
	f.Decision.SLSABuildLevel = 2
	got := build(t, f)
	if got["slsa/SLSA-BUILD-L2"].Status != compliance.Satisfied || got["slsa/SLSA-BUILD-L3"].Status != compliance.NotSatisfied {
		t.Errorf("at L2: L2 %s, L3 %s", got["slsa/SLSA-BUILD-L2"].Status, got["slsa/SLSA-BUILD-L3"].Status)
	}
	// A failed evaluation (fail closed) proves no rule passed.
	f = fullFacts()
	f.Decision.Violations = []policy.Violation{{RuleID: "policy.error", Message: "timeout"}}
	if r := build(t, f)["cra/CRA-II-1"]; r.Status != compliance.NotSatisfied {
		t.Errorf("policy.error: CRA-II-1 %s, want not_satisfied", r.Status)
	}
	// A policy that is not a built-in preset enforces no known rule group.
	f = fullFacts()
	f.EnforcedRules = nil
	if r := build(t, f)["ssdf/PS.3.2"]; r.Status != compliance.NotSatisfied {
		t.Errorf("unknown policy: PS.3.2 %s", r.Status)
	}
	// An SBOM without third-party components makes PW.4.4 not applicable.
	f = fullFacts()
	f.Input.Evidence.SBOM[0].ComponentCount, f.Input.Evidence.SBOM[0].Components = 0, nil
	if r := build(t, f)["ssdf/PW.4.4"]; r.Status != compliance.NotApplicable {
		t.Errorf("no components: PW.4.4 %s", r.Status)
	}
}

func drop(f *compliance.Facts, kind string) {
	e := &f.Input.Evidence
	switch kind {
	case "provenance":
		e.Provenance = nil
		f.Decision.SLSABuildLevel = 0
	case "rebuilds":
		e.Rebuilds = nil
	case "sbom":
		e.SBOM = nil
	case "vulns":
		e.Vulns = nil
	case "misconfig":
		e.Misconfig = nil
	case "secrets":
		e.Secrets = nil
	case "tee":
		e.TEE = nil
	case "approvals":
		e.Approvals = nil
	case compliance.KindDecision:
		f.Deployments = nil
	default:
		panic("unknown kind " + kind)
	}
}

func without(list []string, x string) []string {
	var out []string
	for _, s := range list {
		if s != x {
			out = append(out, s)
		}
	}
	return out
}

// TestReportJSONMatchesSchema: the JSON form validates against the
// published schema, for a full and an empty-evidence report, and a report
// with a wrong status does not.
func TestReportJSONMatchesSchema(t *testing.T) {
	c := jsonschema.NewCompiler()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(compliance.ReportSchema()))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddResource("report.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	c.AssertFormat()
	sch, err := c.Compile("report.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := compliance.Load()
	empty := compliance.Facts{Input: policy.Input{Artifact: policy.Artifact{Digest: digest.MustParse(art)}, Context: policy.Context{Environment: "dev", Time: now}}}
	r := compliance.Build(m, compliance.Scope{Environment: "prod"}, now, []compliance.Facts{fullFacts(), empty})
	compliance.AddVulnerabilityHandling(r, map[string]time.Time{"GHSA-1": now.Add(-time.Hour)})
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(v); err != nil {
		t.Fatalf("report does not match its schema: %v\n%s", err, buf.String())
	}
	bad := strings.Replace(buf.String(), `"status": "satisfied"`, `"status": "mostly"`, 1)
	v, _ = jsonschema.UnmarshalJSON(strings.NewReader(bad))
	if sch.Validate(v) == nil {
		t.Error("schema accepts an unknown status")
	}
	var back compliance.Report
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil || len(back.Artifacts) != 2 {
		t.Errorf("round trip: %v", err)
	}
}

// TestReportHTMLStandalone: the HTML form loads nothing from elsewhere and
// shows every control, its verdict and the signer names.
func TestReportHTMLStandalone(t *testing.T) {
	m, _ := compliance.Load()
	r := compliance.Build(m, compliance.Scope{Environment: "prod"}, now, []compliance.Facts{fullFacts()})
	var buf bytes.Buffer
	if err := r.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	h := buf.String()
	if ext := regexp.MustCompile(`(?i)(src|href)\s*=|<script|@import|url\(`).FindString(h); ext != "" {
		t.Errorf("HTML refers to a resource (%q)", ext)
	}
	for _, want := range []string{"CRA-II-1", "SLSA-BUILD-L3", "PS.3.2", "name-of-key-1", "not covered by Hallmark", "GHSA-2", "not_affected"} {
		if !strings.Contains(h, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
}

// TestReportIndependentOfEvidenceOrder: the gate lists evidence in the
// order it finds it, which differs between the live store and an audit
// export; the report must be the same (verify-export compares them).
func TestReportIndependentOfEvidenceOrder(t *testing.T) {
	m, _ := compliance.Load()
	a := fullFacts()
	a.Input.Evidence.Rebuilds = append(a.Input.Evidence.Rebuilds, policy.Rebuild{Meta: meta(20, "r"), Artifact: art, Matched: true})
	a.Input.Evidence.Vulns = append(a.Input.Evidence.Vulns, policy.VulnScan{Meta: meta(21, "v"), Findings: []policy.VulnFinding{{ID: "GHSA-0", Package: "x"}}})
	b := fullFacts()
	b.Input.Evidence.Rebuilds = append([]policy.Rebuild{a.Input.Evidence.Rebuilds[1]}, b.Input.Evidence.Rebuilds...)
	b.Input.Evidence.Vulns = append([]policy.VulnScan{a.Input.Evidence.Vulns[1]}, b.Input.Evidence.Vulns...)
	var ja, jb bytes.Buffer
	compliance.Build(m, compliance.Scope{Environment: "prod"}, now, []compliance.Facts{a}).WriteJSON(&ja)
	compliance.Build(m, compliance.Scope{Environment: "prod"}, now, []compliance.Facts{b}).WriteJSON(&jb)
	if ja.String() != jb.String() {
		t.Errorf("report depends on evidence order:\n%s\n---\n%s", ja.String(), jb.String())
	}
}

func TestGenerateRefusesAnIncompleteRequest(t *testing.T) {
	if _, _, err := compliance.Generate(t.Context(), nil, compliance.Request{Environment: "prod"}); !errors.Is(err, compliance.ErrBadRequest) {
		t.Errorf("Generate without store, trust, policy or lister: %v, want ErrBadRequest", err)
	}
}
