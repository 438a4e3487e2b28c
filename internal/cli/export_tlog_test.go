package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/attest"
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
