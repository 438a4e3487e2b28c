package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/compliance/archive"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/store/sqlite"
	"github.com/hallmark-dev/hallmark/tlog/host/hosttest"
)

// TestExportChecksStoredLogEntries exports evidence logged and timestamped
// by a real (hosted) log and TSA, then puts into the store a bundle that
// carries another bundle's log entry (its signature verifies, so a store
// without a trusted root takes it): export with the trusted root refuses
// it, naming the bundle; without one it archives it as before.
func TestExportChecksStoredLogEntries(t *testing.T) {
	s := hosttest.Start(t)
	ta := newTestApp(t)
	dir := t.TempDir()
	ta.mustRun(t, "keygen", filepath.Join(dir, "gate"))
	ta.mustRun(t, "keygen", filepath.Join(dir, "signer"))
	trustFile := writeFile(t, filepath.Join(dir, "trust.yaml"), "version: 1\nkeys:\n  - {name: signer, publicKey: signer.pub, roles: [approver]}\n  - {name: gate, publicKey: gate.pub, roles: [gate]}\n")
	pol := writeFile(t, filepath.Join(dir, "policy.rego"), servePolicy)
	art := writeFile(t, filepath.Join(dir, "app.bin"), "binary contents")
	pred := writeFile(t, filepath.Join(dir, "pred.json"), `{"note":"hello"}`)
	ta.env[TlogEnv], ta.env[TSAEnv], ta.env[TrustedRootEnv] = s.LogURL, s.TSAURL, s.RootPath

	ta.mustRun(t, "approve", art, "--env", "prod", "--key", filepath.Join(dir, "signer.key"))
	ta.mustRun(t, "gate", art, "--env", "prod", "--trust", trustFile, "--policy", pol, "--key", filepath.Join(dir, "gate.key"))
	sign := func(name string) []byte {
		out := filepath.Join(dir, name)
		ta.mustRun(t, "attest", "--key", filepath.Join(dir, "signer.key"), "--predicate-type", "https://example.com/p/v1", "--predicate", pred, "--out", out, art)
		return ta.readFile(t, out)
	}
	good, other := sign("good.json"), sign("other.json")
	export := func(extra ...string) int {
		return ta.run(append([]string{"export", art, "--env", "prod", "--trust", trustFile, "--policy", pol, "--out", filepath.Join(t.TempDir(), "audit.tar")}, extra...)...)
	}
	if code := export(); code != ExitOK {
		t.Fatalf("export of intact logged evidence: exit %d\n%s", code, ta.errOut)
	}

	tampered := swapTlogEntries(t, good, other)
	signer, err := keys.LoadPublicKeyFile(filepath.Join(dir, "signer.pub"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := attest.Verify(t.Context(), tampered, attest.NewKeySet(signer))
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(ta.env[StoreEnv], "evidence.db"))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := st.Put(t.Context(), v)
	st.Close()
	if err != nil {
		t.Fatal(err)
	}

	if code := export(); code != ExitRejected || !strings.Contains(ta.errOut.String(), rec.ID) || !strings.Contains(ta.errOut.String(), "altered") {
		t.Fatalf("export with a tampered log entry in the store: exit %d, want %d naming %s\n%s", code, ExitRejected, rec.ID, ta.errOut)
	}
	if code := export("--trusted-root", "off"); code != ExitOK {
		t.Fatalf("export without a trusted root: exit %d\n%s", code, ta.errOut)
	}
}

// TestVerifyExportChecksArchivedLogEntries: export with a trusted root
// archives it, and verify-export re-verifies every bundle's log entries and
// timestamps against it from the archive alone. An archive whose approval
// was given another bundle's log entry, consistently rewritten (the
// bundle's ID in every member and the manifest's digests; unsigned, as an
// archive checked without --key may be), is rejected naming the bundle; the
// same rewrite of an archive exported without a root passes, because
// nothing in it says what the log vouched for.
func TestVerifyExportChecksArchivedLogEntries(t *testing.T) {
	s := hosttest.Start(t)
	ta := newTestApp(t)
	dir := t.TempDir()
	ta.mustRun(t, "keygen", filepath.Join(dir, "gate"))
	ta.mustRun(t, "keygen", filepath.Join(dir, "signer"))
	trustFile := writeFile(t, filepath.Join(dir, "trust.yaml"), "version: 1\nkeys:\n  - {name: signer, publicKey: signer.pub, roles: [approver]}\n  - {name: gate, publicKey: gate.pub, roles: [gate]}\n")
	pol := writeFile(t, filepath.Join(dir, "policy.rego"), servePolicy)
	art := writeFile(t, filepath.Join(dir, "app.bin"), "binary contents")
	pred := writeFile(t, filepath.Join(dir, "pred.json"), `{"note":"hello"}`)
	ta.env[TlogEnv], ta.env[TSAEnv], ta.env[TrustedRootEnv] = s.LogURL, s.TSAURL, s.RootPath

	ta.mustRun(t, "approve", art, "--env", "prod", "--key", filepath.Join(dir, "signer.key"))
	ta.mustRun(t, "gate", art, "--env", "prod", "--trust", trustFile, "--policy", pol, "--key", filepath.Join(dir, "gate.key"))
	other := filepath.Join(dir, "other.json")
	ta.mustRun(t, "attest", "--key", filepath.Join(dir, "signer.key"), "--predicate-type", "https://example.com/p/v1", "--predicate", pred, "--out", other, art)
	otherBundle := ta.readFile(t, other)

	export := func(extra ...string) string {
		out := filepath.Join(t.TempDir(), "audit.tar")
		ta.mustRun(t, append([]string{"export", art, "--env", "prod", "--trust", trustFile, "--policy", pol, "--out", out}, extra...)...)
		return out
	}
	withRoot := export()
	ta.env[TrustedRootEnv] = "" // verify-export reads the root from the archive alone
	ta.mustRun(t, "verify-export", withRoot)
	if !strings.Contains(ta.out.String(), "verified against the archived "+archive.RootName) {
		t.Errorf("verify-export does not say it checked the archived root:\n%s", ta.out)
	}
	members := readArchive(t, withRoot)
	if _, ok := members[archive.RootName]; !ok {
		t.Fatalf("no %s in the archive", archive.RootName)
	}
	var rep struct {
		Artifacts []struct {
			Evidence []struct{ ID, Kind string }
		}
	}
	if err := json.Unmarshal(members[archive.ReportName], &rep); err != nil || len(rep.Artifacts) != 1 {
		t.Fatalf("report: %v", err)
	}
	approval := ""
	for _, e := range rep.Artifacts[0].Evidence {
		if e.Kind == "approvals" {
			approval = strings.TrimPrefix(e.ID, "sha256:")
		}
	}
	if approval == "" {
		t.Fatalf("no approval in the archived report: %s", members[archive.ReportName])
	}

	tampered, name := swapArchivedEntry(t, withRoot, approval, otherBundle)
	if code := ta.run("verify-export", tampered); code != ExitRejected || !strings.Contains(ta.errOut.String(), name) {
		t.Fatalf("verify-export of an archive with a swapped log entry: exit %d, want %d naming %s\n%s%s", code, ExitRejected, name, ta.out, ta.errOut)
	}

	ta.env[TrustedRootEnv] = s.RootPath
	withoutRoot := export("--trusted-root", "off")
	if _, ok := readArchive(t, withoutRoot)[archive.RootName]; ok {
		t.Errorf("export --trusted-root off archived a trusted root")
	}
	tampered, _ = swapArchivedEntry(t, withoutRoot, approval, otherBundle)
	if code := ta.run("verify-export", tampered); code != ExitOK {
		t.Fatalf("the same rewrite without an archived root: exit %d (the test's rewrite is not consistent)\n%s", code, ta.errOut)
	}
}

func readArchive(t *testing.T, file string) map[string][]byte {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := archive.ReadMembers(f)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// swapArchivedEntry gives the archived bundle with ID hex the log entries
// of other, renames it to its new ID everywhere in the archive and rewrites
// the manifest's digests. It returns the new archive and member name.
func swapArchivedEntry(t *testing.T, file, hex string, other []byte) (string, string) {
	t.Helper()
	m := readArchive(t, file)
	old := "bundles/" + hex + ".json"
	b, ok := m[old]
	if !ok {
		t.Fatalf("no %s in %s", old, file)
	}
	swapped := swapTlogEntries(t, b, other)
	newHex := archive.SHA256Hex(swapped)
	out := map[string][]byte{}
	for k, v := range m {
		out[strings.ReplaceAll(k, hex, newHex)] = bytes.ReplaceAll(v, []byte(hex), []byte(newHex))
	}
	name := "bundles/" + newHex + ".json"
	out[name] = swapped
	var man archive.Manifest
	if err := json.Unmarshal(out[archive.ManifestName], &man); err != nil {
		t.Fatal(err)
	}
	man.Members = map[string]string{}
	for k, v := range out {
		if k != archive.ManifestName && k != archive.SignatureName {
			man.Members[k] = archive.SHA256Hex(v)
		}
	}
	out[archive.ManifestName], _ = json.MarshalIndent(man, "", "  ")
	p := filepath.Join(t.TempDir(), "tampered.tar")
	if err := writeTar(p, out, time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	return p, name
}

// TestReportUsesTrustedRoot: with --trusted-root the report judges with
// verified log entries and timestamps only: an approval whose log entry was
// swapped in the store is listed as ignored rather than counted, and the
// approval's time is the TSA's verified time, not the approvedAt the signer
// wrote (here the test clock's). Without a root both count as before.
func TestReportUsesTrustedRoot(t *testing.T) {
	s := hosttest.Start(t)
	ta := newTestApp(t)
	dir := t.TempDir()
	ta.mustRun(t, "keygen", filepath.Join(dir, "gate"))
	ta.mustRun(t, "keygen", filepath.Join(dir, "signer"))
	ta.mustRun(t, "keygen", filepath.Join(dir, "second"))
	trustFile := writeFile(t, filepath.Join(dir, "trust.yaml"), "version: 1\nkeys:\n  - {name: signer, publicKey: signer.pub, roles: [approver]}\n  - {name: second, publicKey: second.pub, roles: [approver]}\n  - {name: gate, publicKey: gate.pub, roles: [gate]}\n")
	pol := writeFile(t, filepath.Join(dir, "policy.rego"), servePolicy)
	art := writeFile(t, filepath.Join(dir, "app.bin"), "binary contents")
	ta.env[TlogEnv], ta.env[TSAEnv], ta.env[TrustedRootEnv] = s.LogURL, s.TSAURL, s.RootPath

	ta.mustRun(t, "approve", art, "--env", "prod", "--key", filepath.Join(dir, "signer.key"))
	ta.mustRun(t, "gate", art, "--env", "prod", "--trust", trustFile, "--policy", pol, "--key", filepath.Join(dir, "gate.key"))
	first := filepath.Join(dir, "first.json")
	ta.mustRun(t, "approve", art, "--env", "prod", "--key", filepath.Join(dir, "signer.key"), "--out", first)
	second := filepath.Join(dir, "second.json")
	ta.mustRun(t, "approve", art, "--env", "prod", "--key", filepath.Join(dir, "second.key"), "--out", second)
	// The second approval, carrying the first's log entry, put into the store.
	tampered := swapTlogEntries(t, ta.readFile(t, second), ta.readFile(t, first))
	pub, err := keys.LoadPublicKeyFile(filepath.Join(dir, "second.pub"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := attest.Verify(t.Context(), tampered, attest.NewKeySet(pub))
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(ta.env[StoreEnv], "evidence.db"))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := st.Put(t.Context(), v)
	st.Close()
	if err != nil {
		t.Fatal(err)
	}

	type evidence struct {
		ID, Kind, SignerName string
		Timestamp            time.Time
	}
	report := func(extra ...string) (counted map[string]evidence, ignored []string) {
		t.Helper()
		ta.mustRun(t, append([]string{"report", art, "--env", "prod", "--trust", trustFile, "--policy", pol, "--format", "json"}, extra...)...)
		var r struct {
			Artifacts []struct {
				Evidence []evidence
				Ignored  []struct{ ID string }
			}
		}
		if err := json.Unmarshal(ta.out.Bytes(), &r); err != nil || len(r.Artifacts) != 1 {
			t.Fatalf("report: %v\n%s", err, ta.out)
		}
		counted = map[string]evidence{}
		for _, e := range r.Artifacts[0].Evidence {
			if e.Kind == "approvals" {
				counted[e.ID] = e
			}
		}
		for _, ig := range r.Artifacts[0].Ignored {
			ignored = append(ignored, ig.ID)
		}
		return counted, ignored
	}

	counted, ignored := report()
	if _, ok := counted[rec.ID]; ok || !slices.Contains(ignored, rec.ID) {
		t.Errorf("with the trusted root, the approval with a swapped log entry %s is counted (%v) or not listed as ignored (%v)", rec.ID, counted, ignored)
	}
	clock := ta.Now()
	for id, e := range counted {
		if e.Timestamp.Equal(clock) {
			t.Errorf("with the trusted root, approval %s is dated %s, the time its signer wrote, not the verified timestamp", id, e.Timestamp)
		}
	}
	counted, _ = report("--trusted-root", "off")
	if _, ok := counted[rec.ID]; !ok {
		t.Errorf("without a trusted root, the approval %s is not counted: %v", rec.ID, counted)
	}
	for id, e := range counted {
		if !e.Timestamp.Equal(clock) {
			t.Errorf("without a trusted root, approval %s is dated %s, want the signer's %s", id, e.Timestamp, clock)
		}
	}
}
