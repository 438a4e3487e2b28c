package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/tlog/tlogtest"
)

// TestGateTransparencyRule runs the built-in transparency rule group
// through the gate against a real rekor-tiles log and timestamp-server: an
// approval logged and timestamped against the trusted root passes; one
// signed without the log, admitted by thresholds of 0 or by a gate without
// a trusted root, is denied by the rule, naming the item.
func TestGateTransparencyRule(t *testing.T) {
	s := tlogtest.Start(t)
	ta := newTestApp(t)
	dir := t.TempDir()
	for _, n := range []string{"alice", "gate"} {
		ta.mustRun(t, "keygen", filepath.Join(dir, n))
	}
	trustFile := writeFile(t, filepath.Join(dir, "trust.yaml"), `version: 1
keys:
  - {name: alice, publicKey: alice.pub, roles: [approver]}
  - {name: gate, publicKey: gate.pub, roles: [gate]}
`)
	preset := writeFile(t, filepath.Join(dir, "preset.yaml"), `version: 1
environments:
  prod:
    rules: [approvals, transparency]
    approvals: {min: 1}
    transparency: {logged: [approvals], timestamped: [approvals]}
`)
	art := writeFile(t, filepath.Join(dir, "app.bin"), "binary contents")
	logged := filepath.Join(t.TempDir(), "store")
	unlogged := filepath.Join(t.TempDir(), "store")

	ta.env[StoreEnv] = logged
	ta.env[TlogEnv] = s.Log.URL
	ta.env[TSAEnv] = s.TSA.URL
	ta.env[TrustedRootEnv] = s.RootPath
	ta.mustRun(t, "approve", art, "--env", "prod", "--key", filepath.Join(dir, "alice.key"))
	delete(ta.env, TlogEnv)
	delete(ta.env, TSAEnv)
	delete(ta.env, TrustedRootEnv)
	ta.env[StoreEnv] = unlogged
	ta.mustRun(t, "approve", art, "--env", "prod", "--key", filepath.Join(dir, "alice.key"))

	gate := func(store string, extra ...string) (int, string) {
		t.Helper()
		ta.env[StoreEnv] = store
		code := ta.run(append(extra, "gate", art, "--env", "prod", "--trust", trustFile, "--key", filepath.Join(dir, "gate.key"), "--policy", preset)...)
		return code, ta.out.String() + ta.errOut.String()
	}
	if code, out := gate(logged, "--trusted-root", s.RootPath); code != ExitOK || !strings.Contains(out, "ALLOW") {
		t.Errorf("logged, timestamped approval: exit %d, want 0:\n%s", code, out)
	}
	// Without a trusted root nothing is logged as far as the gate knows.
	if code, out := gate(logged); code != ExitRejected || !strings.Contains(out, "transparency.unlogged") || !strings.Contains(out, "transparency.untimestamped") {
		t.Errorf("logged approval, gate without a trusted root: exit %d, want %d with transparency violations:\n%s", code, ExitRejected, out)
	}
	// Thresholds of 0 let the unlogged approval verify; the rule still denies it.
	if code, out := gate(unlogged, "--trusted-root", s.RootPath, "--tlog-threshold", "0", "--timestamp-threshold", "0"); code != ExitRejected ||
		!strings.Contains(out, "transparency.unlogged") || strings.Contains(out, "approvals.insufficient") {
		t.Errorf("unlogged approval: exit %d, want %d by transparency.unlogged alone:\n%s", code, ExitRejected, out)
	}
}
