package web

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/google/go-sev-guest/abi"
	slsa "github.com/in-toto/attestation/go/predicates/provenance/v1"
	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/finding"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/store/sqlite"
	"github.com/hallmark-dev/hallmark/trust"
	"github.com/hallmark-dev/hallmark/vuln"
)

// Facts of the fixture that tests check the pages against.
const (
	fxBuilder   = "https://hallmark.dev/builders/hallmark-build@v1"
	fxRepo      = "https://github.com/hallmark-dev/hallmark"
	fxCommit    = "8f3c2a1d9e7b6c5a4f3e2d1c0b9a8f7e6d5c4b3a"
	fxRebuilder = "https://rebuild.example.org/rebuilder-1"
	fxScript    = `<script>alert("pwned")</script>`
)

// fixture is a real SQLite store filled with signed evidence about two
// artifacts, plus decisions recorded by the real gate.
type fixture struct {
	st        store.Store
	now       time.Time
	app, lib  string // artifact digests "sha256:<hex>"
	appName   string
	decisions map[string]*gate.Result // by environment, about app
	keys      map[trust.Role]*keys.PrivateKey
	trust     *trust.Trust
	ids       map[string]string // evidence kind -> record ID, about app
}

// newFixture stores, about the artifact "bin/hallmark": SLSA provenance, a
// CycloneDX SBOM, a vulnerability scan, misconfig and secret scans, a
// rebuild, a SEV-SNP TEE attestation (real report) and an approval; then
// asks the real gate for "dev" and "staging" decisions. A second artifact
// gets an SBOM only.
func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := t.Context()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	clock := now.Add(-3 * time.Hour)
	tick := func() time.Time { clock = clock.Add(time.Minute); return clock }
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "evidence.db"), sqlite.WithClock(tick))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })

	f := &fixture{st: st, now: now, keys: map[trust.Role]*keys.PrivateKey{}, ids: map[string]string{}, decisions: map[string]*gate.Result{}}
	var tks []trust.Key
	for _, r := range []trust.Role{trust.RoleBuilder, trust.RoleRebuilder, trust.RoleScanner, trust.RoleApprover, trust.RoleGate} {
		k := attesttest.Key(t, keys.ECDSAP256)
		f.keys[r] = k
		tks = append(tks, trust.Key{Name: string(r), Public: k.Public(), Roles: []trust.Role{r}})
	}
	tr := trust.New(tks...)
	f.trust = tr

	appContent := []byte("hallmark binary built for the dashboard test\n")
	app := attesttest.Subject("bin/hallmark", appContent)
	lib := attesttest.Subject("lib/libhallmark.a", []byte("a second artifact\n"))
	f.app, f.lib, f.appName = "sha256:"+app.Digest["sha256"], "sha256:"+lib.Digest["sha256"], app.Name

	put := func(kind string, role trust.Role, pt string, pred any, subs ...attest.Subject) {
		t.Helper()
		v := attesttest.Verified(t, f.keys[role], pt, pred, subs...)
		rec, err := st.Put(ctx, v)
		if err != nil {
			t.Fatalf("store %s: %v", kind, err)
		}
		if kind != "" {
			f.ids[kind] = rec.ID
		}
	}

	put("provenance", trust.RoleBuilder, ProvenancePredicateType, provenancePredicate(t, now.Add(-2*time.Hour)), app)
	put("sbom", trust.RoleScanner, gate.CycloneDXPredicateType, cycloneDXPredicate(t, now.Add(-2*time.Hour), 3), app)
	put("vulns", trust.RoleScanner, vuln.PredicateType, vulnPredicate(now.Add(-90*time.Minute)), app)
	put("misconfig", trust.RoleScanner, finding.PredicateType, finding.NewPredicate(finding.KindMisconfig,
		finding.Scanner{Name: "hallmark-misconfig", Version: "0.1.0"}, "Dockerfile", now.Add(-80*time.Minute), []finding.Finding{
			{RuleID: "HM-DF-001", Title: "Image runs as root", Severity: finding.SeverityHigh, Message: "no USER instruction", Location: finding.Location{Path: "Dockerfile", Line: 1}},
			{RuleID: "HM-DF-007", Title: fxScript, Severity: finding.SeverityLow, Message: "base image not pinned by digest", Location: finding.Location{Path: "Dockerfile", Line: 1}},
		}), app)
	put("secrets", trust.RoleScanner, finding.PredicateType, finding.NewPredicate(finding.KindSecrets,
		finding.Scanner{Name: "gitleaks", Version: "8.30.1"}, ".", now.Add(-79*time.Minute), []finding.Finding{
			{RuleID: "generic-api-key", Title: "Generic API Key", Severity: finding.SeverityMedium, Message: "possible API key", Evidence: "CANARY-****", Location: finding.Location{Path: "testdata/fake.env", Line: 3}},
		}), app)
	put("rebuild", trust.RoleRebuilder, ReproducibilityPredicateType, rebuildPredicate(app, now.Add(-70*time.Minute)), app)
	put("tee", trust.RoleBuilder, TEEPredicateType, teePredicate(t), app)
	appr, err := gate.NewApproval(digest.MustParse(f.app), "staging", "reviewed in "+fxScript, now.Add(-time.Hour))
	if err != nil {
		t.Fatalf("approval: %v", err)
	}
	put("approval", trust.RoleApprover, gate.ApprovalPredicateType, appr, app)
	put("", trust.RoleScanner, gate.CycloneDXPredicateType, cycloneDXPredicate(t, now.Add(-time.Hour), 1), lib)

	presets, err := policy.BuiltinPresets()
	if err != nil {
		t.Fatalf("presets: %v", err)
	}
	pols := map[string]*policy.Policy{}
	for _, env := range []string{"dev", "staging"} {
		p, err := policy.CompilePreset(ctx, presets, env)
		if err != nil {
			t.Fatalf("compile preset %s: %v", env, err)
		}
		pols[env] = p
	}
	// A team policy for a sandbox environment: an approval and an SBOM
	// suffice, so the gate allows the artifact there.
	sandbox, err := policy.Compile(ctx, []policy.Module{{Name: "sandbox.rego", Source: []byte(sandboxPolicy)}}, policy.WithURI("file:policies/sandbox.rego"))
	if err != nil {
		t.Fatalf("compile sandbox policy: %v", err)
	}
	pols["sandbox"] = sandbox
	g, err := gate.New(st, tr, pols, f.keys[trust.RoleGate], gate.WithClock(func() time.Time { return now.Add(-30 * time.Minute) }))
	if err != nil {
		t.Fatalf("gate: %v", err)
	}
	for _, env := range []string{"dev", "staging", "sandbox"} {
		res, err := g.Evaluate(ctx, gate.Request{Artifact: policy.Artifact{Digest: digest.MustParse(f.app), Name: app.Name}, Environment: env, Requester: "ci " + fxScript, Source: "cli", VSA: true})
		if err != nil {
			t.Fatalf("gate %s: %v", env, err)
		}
		f.decisions[env] = res
	}
	return f
}

const sandboxPolicy = `package hallmark.policy

decision := {"allow": count(violations) == 0, "violations": violations}

violations contains {"ruleId": "sandbox.approval", "message": "no approval", "evidence": []} if count(input.evidence.approvals) == 0

violations contains {"ruleId": "sandbox.sbom", "message": "no SBOM", "evidence": []} if count(input.evidence.sbom) == 0
`

// provenancePredicate is SLSA v1 provenance in the shape `hallmark build`
// records, built and validated with the in-toto SLSA types.
func provenancePredicate(t testing.TB, finished time.Time) json.RawMessage {
	t.Helper()
	ext, err := structpb.NewStruct(map[string]any{
		"command": []any{"go", "build", "./cmd/hallmark"},
		"workdir": ".",
		"source":  map[string]any{"uri": "git+" + fxRepo, "commit": fxCommit, "dirty": false},
	})
	if err != nil {
		t.Fatal(err)
	}
	internal, err := structpb.NewStruct(map[string]any{
		"sandbox": map[string]any{"requested": "on", "applied": true, "network": false, "readOnlySource": true, "namespaces": []any{"mount", "net", "pid", "user"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	p := &slsa.Provenance{
		BuildDefinition: &slsa.BuildDefinition{
			BuildType:          "https://hallmark.dev/build/v1",
			ExternalParameters: ext,
			InternalParameters: internal,
			ResolvedDependencies: []*intoto.ResourceDescriptor{
				{Uri: "git+" + fxRepo, Digest: map[string]string{"gitCommit": fxCommit}},
				{Uri: "pkg:golang/github.com/spf13/cobra@v1.9.1", Digest: map[string]string{"sha256": strings.Repeat("ab", 32)}},
			},
		},
		RunDetails: &slsa.RunDetails{
			Builder:  &slsa.Builder{Id: fxBuilder},
			Metadata: &slsa.BuildMetadata{InvocationId: "c7b5e0a4-2f7e-4a51-9f0e-7d3c9b1e2a44", StartedOn: timestamppb.New(finished.Add(-4 * time.Minute)), FinishedOn: timestamppb.New(finished)},
		},
	}
	if err := p.Validate(); err != nil {
		t.Fatalf("provenance: %v", err)
	}
	b, err := protojson.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// cycloneDXPredicate is a CycloneDX 1.6 BOM with n real Go modules.
func cycloneDXPredicate(t testing.TB, at time.Time, n int) json.RawMessage {
	t.Helper()
	mods := []cdx.Component{
		{Type: cdx.ComponentTypeLibrary, Name: "github.com/spf13/cobra", Version: "v1.9.1", PackageURL: "pkg:golang/github.com/spf13/cobra@v1.9.1"},
		{Type: cdx.ComponentTypeLibrary, Name: "golang.org/x/net", Version: "v0.15.0", PackageURL: "pkg:golang/golang.org/x/net@v0.15.0"},
		{Type: cdx.ComponentTypeLibrary, Name: "gopkg.in/yaml.v3", Version: "v3.0.1", PackageURL: "pkg:golang/gopkg.in/yaml.v3@v3.0.1"},
	}
	bom := cdx.NewBOM()
	bom.Metadata = &cdx.Metadata{Timestamp: at.Format(time.RFC3339), Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{{Type: cdx.ComponentTypeApplication, Name: "hallmark", Version: "0.1.0"}}}}
	comps := mods[:n]
	bom.Components = &comps
	var buf bytes.Buffer
	if err := cdx.NewBOMEncoder(&buf, cdx.BOMFileFormatJSON).EncodeVersion(bom, cdx.SpecVersion1_6); err != nil {
		t.Fatalf("encode BOM: %v", err)
	}
	return buf.Bytes()
}

// vulnPredicate reports two real Go advisories in golang.org/x/net v0.15.0.
func vulnPredicate(finished time.Time) vuln.VulnsPredicate {
	res := func(id, sev, fixed string, aliases ...any) vuln.PredicateResult {
		return vuln.PredicateResult{ID: id, Severity: []vuln.PredicateSeverity{{Method: "hallmark", Score: sev}},
			Annotations: []map[string]any{{"package": "golang.org/x/net", "ecosystem": "Go", "installedVersion": "v0.15.0", "fixedVersions": []any{fixed}, "aliases": aliases}}}
	}
	return vuln.VulnsPredicate{
		Scanner: vuln.PredicateScanner{URI: "pkg:golang/github.com/hallmark-dev/hallmark", Version: "0.1.0",
			DB: vuln.PredicateDB{URI: "https://vuln.go.dev", LastUpdate: finished.Add(-12 * time.Hour)},
			Result: []vuln.PredicateResult{
				res("GO-2023-2102", "high", "v0.17.0", "CVE-2023-39325"),
				res("GO-2024-2687", "medium", "v0.23.0", "CVE-2023-45288"),
			}},
		Metadata: vuln.PredicateMetadata{ScanStartedOn: finished.Add(-time.Minute), ScanFinishedOn: finished},
	}
}

// rebuildPredicate is a reproducibility attestation whose one product
// matched the artifact in both runs.
func rebuildPredicate(app attest.Subject, finished time.Time) map[string]any {
	h := app.Digest["sha256"]
	return map[string]any{
		"rebuilder":  map[string]any{"id": fxRebuilder, "version": map[string]any{"hallmark": "v0.1.0"}},
		"command":    []any{"go", "build", "./cmd/hallmark"},
		"source":     map[string]any{"uri": "git+" + fxRepo, "digest": map[string]any{"gitCommit": fxCommit}},
		"runs":       2,
		"variations": []any{},
		"products":   []any{map[string]any{"name": app.Name, "digest": map[string]any{"sha256": h}, "runDigests": []any{h, h}, "expected": map[string]any{"sha256": h}, "reproducible": true}},
		"result":     "reproducible",
		"startedOn":  finished.Add(-5 * time.Minute).Format(time.RFC3339),
		"finishedOn": finished.Format(time.RFC3339),
	}
}

// teePredicate wraps the real SEV-SNP report of testdata in a TEE
// attestation predicate, with the claims read from the report itself.
func teePredicate(t testing.TB) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "sevsnp-attestation.bin"))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := abi.ReportToProto(raw)
	if err != nil {
		t.Fatalf("parse SEV-SNP report: %v", err)
	}
	const debugBit = 1 << 19 // SNP guest policy: DEBUG
	return map[string]any{
		"platform": "sev-snp",
		"evidence": raw,
		"claims": map[string]any{
			"platform":     "sev-snp",
			"measurements": map[string]any{"measurement": hex.EncodeToString(rep.GetMeasurement()), "host_data": hex.EncodeToString(rep.GetHostData())},
			"debug":        rep.GetPolicy()&debugBit != 0,
		},
		"binding": map[string]any{"paeDigest": map[string]any{"sha256": strings.Repeat("00", 32)}, "nonce": strings.Repeat("11", 32)},
	}
}
