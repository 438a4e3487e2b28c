package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/finding"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/internal/limits"
	"github.com/hallmark-dev/hallmark/internal/strictjson"
	"github.com/hallmark-dev/hallmark/provenance"
	"github.com/hallmark-dev/hallmark/repro"
	"github.com/hallmark-dev/hallmark/sbom"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/vuln"
)

// Predicate types the dashboard knows besides those of gate, finding and
// vuln.
const (
	ProvenancePredicateType      = "https://slsa.dev/provenance/v1"
	ReproducibilityPredicateType = "https://hallmark.dev/attestation/reproducibility/v1"
	TEEPredicateType             = "https://hallmark.dev/attestation/tee/v1"
)

// ErrUnreadable is wrapped by errors about stored evidence the dashboard
// cannot display.
var ErrUnreadable = errors.New("unreadable evidence")

// Stage is a step of an artifact's evidence chain, in chain order.
type Stage int

// The stages of the evidence chain.
const (
	StageProvenance Stage = iota
	StageSBOM
	StageScan
	StageRebuild
	StageTEE
	StageApproval
	StageDecision
	StageOther
)

var stageNames = [...]string{"Provenance", "SBOM", "Scans", "Rebuilds", "TEE", "Approvals", "Gate decisions", "Other evidence"}

// String names the stage for headings.
func (s Stage) String() string {
	if s < 0 || int(s) >= len(stageNames) {
		return "Other evidence"
	}
	return stageNames[s]
}

func stageOf(predicateType string) Stage {
	switch predicateType {
	case ProvenancePredicateType:
		return StageProvenance
	case gate.CycloneDXPredicateType, gate.SPDXPredicateType:
		return StageSBOM
	case finding.PredicateType, vuln.PredicateType:
		return StageScan
	case ReproducibilityPredicateType:
		return StageRebuild
	case TEEPredicateType:
		return StageTEE
	case gate.ApprovalPredicateType:
		return StageApproval
	case gate.DecisionPredicateType, gate.VSAPredicateType:
		return StageDecision
	}
	return StageOther
}

// item is one stored evidence record as the pages show it. Exactly one of
// the kind-specific fields is set unless Problem says why none could be.
type item struct {
	ID            string
	PredicateType string
	Stage         Stage
	Signers       []string
	StoredAt      time.Time
	// Time is the time the predicate states (build end, scan end, ...),
	// zero when it states none.
	Time    time.Time
	Problem string

	Provenance *provenanceView
	SBOM       *sbomView
	Scan       *scanView
	Rebuild    *rebuildView
	TEE        *teeView
	Approval   *approvalView
	Decision   *decisionView
	VSA        *vsaView
}

type provenanceView struct {
	Builder, BuildType string
	Repository, Ref    string
	Commit             string
	Isolation          string
	Dependencies       int
}

type sbomView struct {
	Format     string
	Tool       string
	Components int
}

// sevCount is how many findings of one severity a scan has.
type sevCount struct {
	Severity finding.Severity
	N        int
}

type findingRow struct {
	Severity   finding.Severity
	Kind       string
	ID         string
	Title      string
	Where      string
	Suppressed bool
}

type scanView struct {
	Kind     string // "vulns", "misconfig", "secrets" or "deps"
	Scanner  string
	Target   string
	Counts   []sevCount
	Findings []findingRow
}

type rebuildView struct {
	Rebuilder string
	Result    string
	Runs      int
	// Matched reports that a product of the rebuild has the artifact's
	// digest and was reproducible; Mentioned that one has the digest.
	Matched, Mentioned bool
}

type teeView struct {
	Platform      string
	Debug         bool
	Measurements  int
	EvidenceBytes int
}

type approvalView struct {
	Approver, Environment, Artifact, Comment string
}

type decisionView struct {
	gate.Decision
}

type vsaView struct {
	Verifier, Result, Policy string
	Levels                   []string
}

// statement is the part of an in-toto statement the dashboard reads.
type statement struct {
	PredicateType string          `json:"predicateType"`
	Predicate     json.RawMessage `json:"predicate"`
}

// payloadOf returns the statement payload of a stored record. The record
// verified when it was stored; it is displayed, never trusted for a
// decision here.
func payloadOf(r store.Record) ([]byte, error) {
	_, payload, err := attest.InspectUnverified(r.Bundle)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrUnreadable, r.ID, err)
	}
	if len(payload) > limits.MaxStatementBytes {
		return nil, fmt.Errorf("%w: %s: statement %w (%d bytes, limit %d)", ErrUnreadable, r.ID, limits.ErrTooLarge, len(payload), limits.MaxStatementBytes)
	}
	return payload, nil
}

// decodeRecord turns a record into an item. artifactHex is the sha256 of
// the artifact the page is about ("" when none), used to tell whether a
// rebuild matched it. A record that cannot be read becomes an item with a
// Problem, so one bad record never hides the others.
func decodeRecord(r store.Record, artifact digest.Digest) item {
	it := item{ID: r.ID, PredicateType: r.PredicateType, Stage: stageOf(r.PredicateType), Signers: r.Signers, StoredAt: r.StoredAt}
	payload, err := payloadOf(r)
	if err != nil {
		it.Problem = err.Error()
		return it
	}
	var st statement
	if err := decodeJSON(payload, &st); err != nil {
		it.Problem = fmt.Sprintf("statement is not JSON: %v", err)
		return it
	}
	if err := decodePredicate(&it, st.Predicate, artifact); err != nil {
		it.Problem = fmt.Sprintf("predicate %s: %v", r.PredicateType, err)
	}
	return it
}

// decodePredicate fills the kind-specific view of it from the predicate.
func decodePredicate(it *item, pred json.RawMessage, artifact digest.Digest) error {
	switch it.PredicateType {
	case ProvenancePredicateType:
		p, t, err := decodeProvenance(pred)
		it.Provenance, it.Time = p, t
		return err
	case gate.CycloneDXPredicateType:
		v, t, err := sbomOf(sbom.ReadCycloneDX(pred))
		it.SBOM, it.Time = v, t
		return err
	case gate.SPDXPredicateType:
		v, t, err := sbomOf(sbom.ReadSPDX(pred))
		it.SBOM, it.Time = v, t
		return err
	case finding.PredicateType:
		p, err := finding.Read(pred)
		if err != nil {
			return err
		}
		it.Time = p.ScannedAt
		it.Scan = findingsScan(*p)
	case vuln.PredicateType:
		p, err := vuln.ReadPredicate(pred)
		if err != nil {
			return err
		}
		it.Time = p.Metadata.ScanFinishedOn
		it.Scan = vulnScan(*p)
	case ReproducibilityPredicateType:
		v, t, err := decodeRebuild(pred, artifact)
		it.Rebuild, it.Time = v, t
		return err
	case TEEPredicateType:
		v, t, err := decodeTEE(pred)
		it.TEE, it.Time = v, t
		return err
	case gate.ApprovalPredicateType:
		var a gate.Approval
		if err := decodeJSON(pred, &a); err != nil {
			return err
		}
		it.Time = a.ApprovedAt
		it.Approval = &approvalView{Approver: strings.Join(it.Signers, ", "), Environment: a.Environment, Artifact: a.Artifact.String(), Comment: a.Comment}
	case gate.DecisionPredicateType:
		var d gate.Decision
		if err := decodeJSON(pred, &d); err != nil {
			return err
		}
		it.Time = d.DecidedAt
		it.Decision = &decisionView{d}
	case gate.VSAPredicateType:
		var v struct {
			Verifier struct {
				ID string `json:"id"`
			} `json:"verifier"`
			TimeVerified time.Time `json:"timeVerified"`
			Policy       struct {
				URI string `json:"uri"`
			} `json:"policy"`
			VerificationResult string   `json:"verificationResult"`
			VerifiedLevels     []string `json:"verifiedLevels"`
		}
		if err := decodeJSON(pred, &v); err != nil {
			return err
		}
		it.Time = v.TimeVerified
		it.VSA = &vsaView{Verifier: v.Verifier.ID, Result: v.VerificationResult, Policy: v.Policy.URI, Levels: v.VerifiedLevels}
	}
	return nil
}

// decodeProvenance reads SLSA v1 provenance with provenance.Parse, the
// reader the gate uses, so the page states the isolation the policy saw.
// Builders record the source in different places: Hallmark's builds under
// externalParameters.source (uri, commit), others as repository/ref or a
// GitHub workflow, and most also as a resolved dependency with a gitCommit
// digest; all are read for display.
func decodeProvenance(pred json.RawMessage) (*provenanceView, time.Time, error) {
	p, err := provenance.Parse(pred)
	if err != nil {
		return nil, time.Time{}, err
	}
	s := provenance.Summarize(p)
	bd := p.GetBuildDefinition()
	v := &provenanceView{Builder: s.BuilderID, BuildType: s.BuildType, Repository: s.SourceURI, Ref: s.Ref, Commit: s.Commit,
		Isolation: s.Isolation, Dependencies: len(bd.GetResolvedDependencies())}
	ext := bd.GetExternalParameters().AsMap()
	for _, src := range []map[string]any{obj(ext, "source"), obj(ext, "workflow"), ext} {
		v.Repository = first(v.Repository, str(src, "uri"), str(src, "repository"))
		v.Ref = first(v.Ref, str(src, "ref"))
		v.Commit = first(v.Commit, str(src, "commit"))
	}
	for _, d := range bd.GetResolvedDependencies() {
		if c := d.GetDigest()["gitCommit"]; c != "" {
			if v.Commit == "" || v.Commit == c {
				v.Commit = c
				v.Repository = first(v.Repository, d.GetUri())
			}
			break
		}
	}
	return v, s.FinishedOn, nil
}

// sbomOf is the view of an SBOM read by sbom's reader, the gate's.
func sbomOf(doc *sbom.Contents, err error) (*sbomView, time.Time, error) {
	if err != nil {
		return nil, time.Time{}, err
	}
	format := "CycloneDX "
	if doc.Format == "spdx" {
		format = "SPDX "
	}
	return &sbomView{Format: strings.TrimSpace(format + doc.Version), Tool: doc.Tool, Components: len(doc.Packages)}, doc.Created, nil
}

func findingsScan(p finding.Predicate) *scanView {
	v := &scanView{Kind: p.Kind, Scanner: strings.TrimSpace(p.Scanner.Name + " " + p.Scanner.Version), Target: p.Target}
	for _, f := range p.Findings {
		where := f.Location.Path
		if f.Location.Member != "" {
			where += "!" + f.Location.Member
		}
		if f.Location.Line > 0 {
			where += fmt.Sprintf(":%d", f.Location.Line)
		}
		title := f.Title
		if f.Message != "" && f.Message != f.Title {
			title = strings.TrimSpace(title + ": " + f.Message)
		}
		v.Findings = append(v.Findings, findingRow{Severity: f.Severity, Kind: p.Kind, ID: f.RuleID, Title: title, Where: where, Suppressed: f.Suppressed})
	}
	v.Counts = countSeverities(v.Findings)
	return v
}

func vulnScan(p vuln.VulnsPredicate) *scanView {
	v := &scanView{Kind: "vulns", Scanner: strings.TrimSpace(p.Scanner.URI + " " + p.Scanner.Version)}
	for _, r := range p.Scanner.Result {
		row := findingRow{Kind: "vulns", ID: r.ID, Severity: finding.SeverityUnknown}
		for _, s := range r.Severity {
			if s.Method == "hallmark" {
				if sev, err := finding.ParseSeverity(s.Score); err == nil {
					row.Severity = sev
				}
			}
		}
		for _, a := range r.Annotations {
			pkg, _ := a["package"].(string)
			ver, _ := a["installedVersion"].(string)
			if purl, ok := a["purl"].(string); ok && pkg == "" {
				pkg = purl
			}
			if pkg != "" {
				row.Where = strings.TrimSpace(pkg + " " + ver)
			}
			var title []string
			if aliases, ok := a["aliases"].([]any); ok {
				for _, al := range aliases {
					if s, ok := al.(string); ok {
						title = append(title, s)
					}
				}
			}
			if fixed, ok := a["fixedVersions"].([]any); ok && len(fixed) > 0 {
				if s, ok := fixed[0].(string); ok {
					title = append(title, "fixed in "+s)
				}
			}
			row.Title = strings.Join(title, "; ")
			if b, ok := a["suppressed"].(bool); ok {
				row.Suppressed = b
			}
		}
		v.Findings = append(v.Findings, row)
	}
	v.Counts = countSeverities(v.Findings)
	return v
}

// countSeverities counts unsuppressed findings by severity, worst first,
// listing only severities that occur.
func countSeverities(fs []findingRow) []sevCount {
	n := map[finding.Severity]int{}
	for _, f := range fs {
		if !f.Suppressed {
			n[f.Severity]++
		}
	}
	var out []sevCount
	for s := finding.SeverityCritical; s >= finding.SeverityUnknown; s-- {
		if n[s] > 0 {
			out = append(out, sevCount{Severity: s, N: n[s]})
		}
	}
	return out
}

func decodeRebuild(pred json.RawMessage, artifact digest.Digest) (*rebuildView, time.Time, error) {
	p, err := repro.Read(pred)
	if err != nil {
		return nil, time.Time{}, err
	}
	v := &rebuildView{Rebuilder: p.Rebuilder.ID, Result: string(p.Result), Runs: p.Runs}
	if !artifact.IsZero() {
		v.Mentioned, v.Matched = p.Vouches(artifact)
	}
	return v, p.FinishedOn, nil
}

func decodeTEE(pred json.RawMessage) (*teeView, time.Time, error) {
	var p struct {
		Platform string `json:"platform"`
		Evidence []byte `json:"evidence"`
		Claims   *struct {
			Measurements map[string]string `json:"measurements"`
			Debug        bool              `json:"debug"`
			IssuedAt     time.Time         `json:"issuedAt"`
		} `json:"claims"`
	}
	if err := decodeJSON(pred, &p); err != nil {
		return nil, time.Time{}, err
	}
	v := &teeView{Platform: p.Platform, EvidenceBytes: len(p.Evidence)}
	var t time.Time
	if p.Claims != nil {
		v.Debug = p.Claims.Debug
		v.Measurements = len(p.Claims.Measurements)
		t = p.Claims.IssuedAt
	}
	return v, t, nil
}

func obj(m map[string]any, key string) map[string]any {
	o, _ := m[key].(map[string]any)
	return o
}

func str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

func first(ss ...string) string {
	if i := slices.IndexFunc(ss, func(s string) bool { return s != "" }); i >= 0 {
		return ss[i]
	}
	return ""
}

// Other reports an item of a predicate type the dashboard does not know.
func (it item) Other() bool { return it.Stage == StageOther }

// decodeJSON decodes signed JSON the way the gate does: keys matched with
// exact case, no duplicates (the views here are partial, so other keys are
// ignored). A page never shows what a case-sensitive reader would not see.
func decodeJSON(b []byte, out any) error {
	return strictjson.Decode(b, out, strictjson.AllowUnknownKeys())
}
