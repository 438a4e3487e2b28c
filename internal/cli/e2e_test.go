package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/finding"
	"github.com/hallmark-dev/hallmark/repro"
)

// e2ePreset is the prod policy of the end-to-end test: the built-in library
// with every rule group that the evidence below can satisfy.
const e2ePreset = `version: 1
environments:
  prod:
    rules: [slsa_l1, slsa_l2, slsa_l3, source, reproducible, vulns, sbom, misconfig, approvals, freshness]
    slsa: {builders: ["https://hallmark.dev/builders/local/v1"]}
    source: {repositories: ["https://github.com/acme/app"], refs: ["refs/heads/main"]}
    reproducible: {minRebuilders: 2}
    vulns: {failAt: high, unknownSeverity: fail, maxScanAgeDays: 1, maxDBAgeDays: 3}
    misconfig: {failAt: high}
    approvals: {min: 2, maxAgeDays: 7}
    freshness:
      maxAgeDays: {provenance: 30, sbom: 30, vulns: 1, misconfig: 30, rebuilds: 30, approvals: 7}
      clockSkewSeconds: 300
`

// buildScript is the project's deterministic build.
const buildScript = "mkdir -p dist && cat main.txt VERSION > dist/app && echo done\n"

func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.email=ci@example.com", "-c", "user.name=ci"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

// e2e holds the evidence one full pipeline run produced.
type e2e struct {
	ta                    *testApp
	dir, repo, art        string
	keys                  map[string]string
	provenance, sbom      string
	vulns, misconfig      string
	rebuilds, approvals   []string
	trustFile, presetFile string
	exported              map[string]bool
}

func (e *e2e) key(name string) string { return e.keys[name] + ".key" }
func (e *e2e) pub(name string) string { return e.keys[name] + ".pub" }

// runPipeline does build -> SBOM and scans -> independent rebuilds ->
// approvals, each step through the CLI, keeping every bundle as a file.
func runPipeline(t *testing.T) *e2e {
	t.Helper()
	ta := newTestApp(t)
	ta.env["PATH"] = "/usr/bin:/bin"
	root := repoRoot(t) // before t.Chdir
	e := &e2e{ta: ta, dir: t.TempDir(), keys: map[string]string{}, exported: map[string]bool{}}
	for _, n := range []string{"builder", "rebuilder1", "rebuilder2", "scanner", "alice", "bob", "gate", "eve"} {
		e.keys[n] = filepath.Join(e.dir, n)
		ta.mustRun(t, "keygen", e.keys[n])
	}
	e.trustFile = writeFile(t, filepath.Join(e.dir, "trust.yaml"), `version: 1
keys:
  - {name: ci-builder, publicKey: builder.pub, roles: [builder]}
  - {name: rebuilder-1, publicKey: rebuilder1.pub, roles: [rebuilder]}
  - {name: rebuilder-2, publicKey: rebuilder2.pub, roles: [rebuilder]}
  - {name: scanner, publicKey: scanner.pub, roles: [scanner]}
  - {name: alice, publicKey: alice.pub, roles: [approver]}
  - {name: bob, publicKey: bob.pub, roles: [approver]}
  - {name: gate, publicKey: gate.pub, roles: [gate]}
`)
	e.presetFile = writeFile(t, filepath.Join(e.dir, "policy.yaml"), e2ePreset)

	e.repo = filepath.Join(e.dir, "src")
	os.MkdirAll(e.repo, 0o755)
	writeFile(t, filepath.Join(e.repo, "main.txt"), "the application\n")
	writeFile(t, filepath.Join(e.repo, "VERSION"), "1.0.0\n")
	writeFile(t, filepath.Join(e.repo, "build.sh"), buildScript)
	writeFile(t, filepath.Join(e.repo, "package-lock.json"), strings.ReplaceAll(lodashLock, "4.17.11", "4.17.21"))
	writeFile(t, filepath.Join(e.repo, ".gitignore"), "dist/\n")
	git(t, e.repo, "init", "-q", "-b", "main")
	git(t, e.repo, "remote", "add", "origin", "https://github.com/acme/app.git")
	git(t, e.repo, "add", ".")
	git(t, e.repo, "commit", "-q", "-m", "release 1.0.0")
	t.Chdir(e.repo)

	// Build, sandboxed and offline, with signed provenance.
	out := filepath.Join(e.dir, "build")
	ta.mustRun(t, "build", "--key", e.key("builder"), "--out", out, "--output-dir", "dist", "--sandbox", "on", "--", "sh", "build.sh")
	e.provenance = filepath.Join(out, "provenance.bundle.json")
	e.art = filepath.Join(e.repo, "dist", "app")

	// SBOM of the source, attested about the artifact by the scanner.
	sbomFile := filepath.Join(e.dir, "sbom.cdx.json")
	ta.mustRun(t, "sbom", e.repo, "--format", "cyclonedx", "--out", sbomFile)
	e.sbom = filepath.Join(e.dir, "sbom.bundle.json")
	ta.mustRun(t, "attest", "--key", e.key("scanner"), "--predicate-type", "https://cyclonedx.org/bom", "--predicate", sbomFile, "--out", e.sbom, e.art)

	// Vulnerability and misconfiguration scans, signed about the artifact.
	ta.mustRun(t, "db", "update", "--from", filepath.Join(root, "vuln", "testdata", "osv", "npm"))
	ta.mustRun(t, "scan", "--vulns", e.repo, "--key", e.key("scanner"), "--subject", e.art)
	e.vulns = e.lastStored(t, "https://in-toto.io/attestation/vulns/v0.2")
	ta.mustRun(t, "scan", "--misconfig", e.repo, "--key", e.key("scanner"), "--subject", e.art)
	e.misconfig = e.lastStored(t, finding.PredicateType)

	// Two independent rebuilders reproduce it.
	for _, r := range []string{"rebuilder1", "rebuilder2"} {
		rb := filepath.Join(e.dir, r)
		ta.mustRun(t, "rebuild", "--bundle", e.provenance, "--builder-key", e.pub("builder"), "--key", e.key(r), "--rebuilder-id", "https://rebuild.example/"+r, "--out", rb)
		e.rebuilds = append(e.rebuilds, e.lastStored(t, repro.PredicateType))
	}

	// Two approvers sign off for prod.
	for _, a := range []string{"alice", "bob"} {
		b := filepath.Join(e.dir, a+".approval.json")
		ta.mustRun(t, "approve", e.art, "--env", "prod", "--key", e.key(a), "--comment", "release 1.0.0", "--out", b)
		e.approvals = append(e.approvals, b)
	}
	return e
}

// lastStored writes the newest stored bundle of a predicate type to a file.
func (e *e2e) lastStored(t *testing.T, predicateType string) string {
	t.Helper()
	e.ta.mustRun(t, "evidence", "ls", "--type", predicateType, "--format", "json")
	var recs []struct{ ID string }
	if err := json.Unmarshal(e.ta.out.Bytes(), &recs); err != nil {
		t.Fatalf("evidence ls: %v\n%s", err, e.ta.out)
	}
	// The test clock stands still, so "newest" is the one not yet exported.
	id := ""
	for _, r := range recs {
		if !e.exported[r.ID] {
			id = r.ID
		}
	}
	if id == "" {
		t.Fatalf("no new stored %s", predicateType)
	}
	e.exported[id] = true
	e.ta.mustRun(t, "evidence", "show", "--bundle", id)
	path := filepath.Join(e.dir, strings.TrimPrefix(id, "sha256:")[:16]+".bundle.json")
	writeFile(t, path, e.ta.out.String())
	return path
}

func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return wd
}

// gate runs `hallmark gate` on an empty store with exactly the given
// bundles, so each case sees only the evidence it names.
func (e *e2e) gate(t *testing.T, bundles []string, extra ...string) (int, string) {
	t.Helper()
	saved := e.ta.env[StoreEnv]
	e.ta.env[StoreEnv] = filepath.Join(t.TempDir(), "store")
	defer func() { e.ta.env[StoreEnv] = saved }()
	args := []string{"gate", e.art, "--env", "prod", "--trust", e.trustFile, "--key", e.key("gate"), "--policy", e.presetFile, "--requester", "release-bot"}
	for _, b := range bundles {
		args = append(args, "--bundle", b)
	}
	code := e.ta.run(append(args, extra...)...)
	return code, e.ta.out.String() + e.ta.errOut.String()
}

func (e *e2e) all() []string {
	b := []string{e.provenance, e.sbom, e.vulns, e.misconfig}
	b = append(b, e.rebuilds...)
	return append(b, e.approvals...)
}

func without(list []string, drop string) []string {
	var out []string
	for _, x := range list {
		if x != drop {
			out = append(out, x)
		}
	}
	return out
}

// TestEndToEndGate: build -> SBOM and scans -> reproducibility -> approvals
// -> gate allows; then each required piece is removed or corrupted in turn
// and the gate denies with the reason that names it.
func TestEndToEndGate(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end pipeline skipped with -short")
	}
	e := runPipeline(t)

	code, out := e.gate(t, e.all())
	if code != ExitOK {
		t.Fatalf("full evidence: exit %d, want allow\n%s", code, out)
	}
	if !strings.Contains(out, "ALLOW") || !strings.Contains(out, "SLSA_BUILD_LEVEL_3") {
		t.Errorf("verdict output:\n%s", out)
	}

	// Evidence the attacker or a mistake could produce.
	unsigned := filepath.Join(e.dir, "unsigned-build")
	e.ta.mustRun(t, "build", "--out", unsigned, "--output-dir", "dist", "--sandbox", "off", "--", "sh", "build.sh")
	untrusted := filepath.Join(e.dir, "untrusted.bundle.json")
	e.ta.mustRun(t, "evidence", "show", "--bundle", mustFirstID(t, e, "https://slsa.dev/provenance/v1"))
	provPred := extractPredicate(t, e.ta.out.Bytes())
	predFile := writeFile(t, filepath.Join(e.dir, "prov-pred.json"), string(provPred))
	e.ta.mustRun(t, "attest", "--key", e.key("eve"), "--predicate-type", "https://slsa.dev/provenance/v1", "--predicate", predFile, "--out", untrusted, e.art)

	vulnTree := filepath.Join(e.dir, "vulnerable")
	os.MkdirAll(vulnTree, 0o755)
	writeFile(t, filepath.Join(vulnTree, "package-lock.json"), lodashLock)
	e.ta.mustRun(t, "scan", "--vulns", vulnTree, "--key", e.key("scanner"), "--subject", e.art)
	vulnerable := e.lastStored(t, "https://in-toto.io/attestation/vulns/v0.2")

	otherEnv := filepath.Join(e.dir, "bob-staging.json")
	e.ta.mustRun(t, "approve", e.art, "--env", "staging", "--key", e.key("bob"), "--out", otherEnv)

	// Attack (#16 item 2, #20 item 6): a build from a tree with an
	// uncommitted file, signed by the trusted builder, with the same product.
	notes := filepath.Join(e.repo, "NOTES.txt")
	writeFile(t, notes, "uncommitted\n")
	dirtyOut := filepath.Join(e.dir, "dirty-build")
	e.ta.mustRun(t, "build", "--key", e.key("builder"), "--out", dirtyOut, "--output-dir", "dist", "--sandbox", "on", "--", "sh", "build.sh")
	if !strings.Contains(e.ta.errOut.String(), "warning: the source tree had uncommitted changes") {
		t.Errorf("dirty build gave no warning:\n%s", e.ta.errOut)
	}
	os.Remove(notes)
	dirtyProv := filepath.Join(dirtyOut, "provenance.bundle.json")
	// A clean build that could write to a cache shared between builds.
	cacheOut := filepath.Join(e.dir, "cache-build")
	e.ta.mustRun(t, "build", "--key", e.key("builder"), "--out", cacheOut, "--output-dir", "dist", "--cache-dir", t.TempDir(), "--sandbox", "on", "--", "sh", "build.sh")
	cacheProv := filepath.Join(cacheOut, "provenance.bundle.json")

	mismatch := filepath.Join(e.dir, "mismatch.bundle.json")
	mismatchPred := rebuildMismatchPredicate(t, e)
	e.ta.mustRun(t, "attest", "--key", e.key("rebuilder2"), "--predicate-type", repro.PredicateType, "--predicate", mismatchPred, "--out", mismatch, e.art)

	for _, tc := range []struct {
		name    string
		bundles []string
		later   time.Duration
		want    string
	}{
		{"unsigned provenance", append(without(e.all(), e.provenance), filepath.Join(unsigned, "provenance.json")), 0, "slsa_l1.provenance_missing"},
		{"provenance signed by an untrusted builder key", append(without(e.all(), e.provenance), untrusted), 0, "slsa_l1.provenance_missing"},
		{"vulnerable dependency", append(without(e.all(), e.vulns), vulnerable), 0, "vulns.fixable"},
		{"missing approval", without(e.all(), e.approvals[1]), 0, "approvals.insufficient"},
		{"approval for another environment", append(without(e.all(), e.approvals[1]), otherEnv), 0, "approvals.insufficient"},
		{"mismatched rebuild", append(without(e.all(), e.rebuilds[1]), mismatch), 0, "reproducible.mismatch"},
		{"stale scan", e.all(), 3 * 24 * time.Hour, "vulns.scan_stale"},
		{"provenance of a dirty tree", append(without(e.all(), e.provenance), dirtyProv), 0, "source.dirty"},
		{"provenance with a shared writable cache", append(without(e.all(), e.provenance), cacheProv), 0, "slsa_l3.shared_writable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.later > 0 {
				saved := e.ta.Now
				e.ta.Now = func() time.Time { return saved().Add(tc.later) }
				defer func() { e.ta.Now = saved }()
			}
			code, out := e.gate(t, tc.bundles)
			if code != ExitRejected {
				t.Fatalf("exit %d, want deny (%d)\n%s", code, ExitRejected, out)
			}
			if !strings.Contains(out, "DENY") || !strings.Contains(out, tc.want) {
				t.Errorf("deny reason lacks %q:\n%s", tc.want, out)
			}
		})
	}

	// Every decision was recorded where it was made; the main store holds
	// none (each case used its own), but deployments ls works on one.
	e.ta.mustRun(t, "deployments", "ls", "--env", "prod", "--trust", e.trustFile)
}

func mustFirstID(t *testing.T, e *e2e, predicateType string) string {
	t.Helper()
	e.ta.mustRun(t, "evidence", "ls", "--type", predicateType, "--format", "json")
	var recs []struct{ ID string }
	json.Unmarshal(e.ta.out.Bytes(), &recs)
	if len(recs) == 0 {
		t.Fatalf("no %s stored", predicateType)
	}
	return recs[0].ID
}

// extractPredicate returns the predicate of a bundle's statement.
func extractPredicate(t *testing.T, bundle []byte) []byte {
	t.Helper()
	var b struct {
		DSSEEnvelope struct {
			Payload []byte `json:"payload"`
		} `json:"dsseEnvelope"`
	}
	if err := json.Unmarshal(bundle, &b); err != nil {
		t.Fatal(err)
	}
	var st struct {
		Predicate json.RawMessage `json:"predicate"`
	}
	if err := json.Unmarshal(b.DSSEEnvelope.Payload, &st); err != nil {
		t.Fatal(err)
	}
	return st.Predicate
}

// rebuildMismatchPredicate is rebuilder 2's attestation as it would read
// had its rebuild produced different bytes.
func rebuildMismatchPredicate(t *testing.T, e *e2e) string {
	t.Helper()
	raw, err := os.ReadFile(e.rebuilds[1])
	if err != nil {
		t.Fatal(err)
	}
	var p repro.Predicate
	if err := json.Unmarshal(extractPredicate(t, raw), &p); err != nil {
		t.Fatal(err)
	}
	for i := range p.Products {
		p.Products[i].Digest = map[string]string{"sha256": strings.Repeat("ab", 32)}
		p.Products[i].Reproducible = false
	}
	p.Result = repro.OutcomeNotReproducible
	b, _ := json.Marshal(p)
	return writeFile(t, filepath.Join(e.dir, "mismatch-pred.json"), string(b))
}
