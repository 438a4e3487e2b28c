package server

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/keys"
)

// TestOpenWarnsOfCacheOverMemoryLimit: a verification cache bound above
// half of the process's memory limit (serve's --memory-limit-mib) is
// logged when the server opens, since a full cache then keeps the
// collector running; one within it is not.
func TestOpenWarnsOfCacheOverMemoryLimit(t *testing.T) {
	dir := t.TempDir()
	w := newWorld(t)
	pass := "hm-test-canary-passphrase"
	if _, _, err := keys.WriteFiles(filepath.Join(dir, "gate"), w.gateKey, []byte(pass)); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "trust.yaml"), []byte("version: 1\nkeys:\n  - {name: gate, publicKey: gate.pub, roles: [gate]}\n"), 0o600)
	pol, _ := os.ReadFile("testdata/policy.rego")
	os.WriteFile(filepath.Join(dir, "policy.rego"), pol, 0o600)
	prev := debug.SetMemoryLimit(512 << 20)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })
	for _, c := range []struct {
		mib  int
		warn bool
	}{{256, false}, {257, true}} {
		conf := "store: {driver: sqlite, path: evidence.db}\nauth: {insecureAnonymousAdmission: true}\ntrust: trust.yaml\npolicies: {prod: policy.rego}\n" +
			"gate: {key: gate.key, passphraseEnv: TEST_GATE_PASS, verifiedCacheMiB: " + strconv.Itoa(c.mib) + "}\n"
		path := filepath.Join(dir, "hallmark.yaml")
		os.WriteFile(path, []byte(conf), 0o600)
		cfg, err := LoadConfig(path)
		if err != nil {
			t.Fatal(err)
		}
		var log bytes.Buffer
		s, err := Open(t.Context(), cfg, func(string) string { return pass }, WithLogger(slog.New(slog.NewTextHandler(&log, nil))))
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		if got := strings.Contains(log.String(), "verifiedCacheMiB is over half the memory limit"); got != c.warn {
			t.Errorf("verifiedCacheMiB %d under a 512 MiB limit: warned %v, want %v; log:\n%s", c.mib, got, c.warn, log.String())
		}
	}
}
