//go:build unix

package cli

import (
	"context"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestAttackFIFOInputs reproduces inputs that are named pipes: opening a
// FIFO for reading blocks until a writer appears, so every command that
// reads a user-supplied file hung forever (and SIGTERM could not stop it).
// Each command must refuse the FIFO at once, naming it, with exit code 3.
func TestAttackFIFOInputs(t *testing.T) {
	ta := newTestApp(t)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	key := filepath.Join(dir, "signer")
	ta.mustRun(t, "keygen", key)
	art := writeFile(t, filepath.Join(dir, "app.bin"), "binary")
	pred := writeFile(t, filepath.Join(dir, "pred.json"), `{"note":"x"}`)
	bundle := filepath.Join(dir, "app.bundle.json")
	ta.mustRun(t, "attest", "--key", key+".key", "--predicate-type", "https://example.com/p/v1", "--predicate", pred, "--out", bundle, art)
	trustFile := writeFile(t, filepath.Join(dir, "trust.yaml"), "version: 1\nkeys:\n  - {name: gate, publicKey: signer.pub, roles: [gate]}\n")
	digest := "sha256:" + strings.Repeat("ab", 32)

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"scan secrets", []string{"scan", "--secrets", fifo}, "not a regular file"},
		{"scan misconfig", []string{"scan", "--misconfig", fifo}, "not a regular file"},
		{"sbom", []string{"sbom", fifo}, "neither a regular file nor a directory"},
		{"attest predicate", []string{"attest", "--key", key + ".key", "--predicate-type", "https://example.com/p/v1", "--predicate", fifo, art}, "not a regular file"},
		{"attest subject", []string{"attest", "--key", key + ".key", "--predicate-type", "https://example.com/p/v1", "--predicate", pred, fifo}, "not a regular file"},
		{"attest key", []string{"attest", "--key", fifo, "--predicate-type", "https://example.com/p/v1", "--predicate", pred, art}, "not a regular file"},
		{"verify bundle", []string{"verify", "--key", key + ".pub", "--bundle", fifo, art}, "not a regular file"},
		{"verify subject", []string{"verify", "--key", key + ".pub", "--bundle", bundle, fifo}, "not a regular file"},
		{"verify key", []string{"verify", "--key", fifo, "--bundle", bundle, art}, "not a regular file"},
		{"gate artifact", []string{"gate", fifo, "--env", "prod", "--trust", trustFile, "--key", key + ".key"}, "not a regular file"},
		{"gate trust", []string{"gate", digest, "--env", "prod", "--trust", fifo, "--key", key + ".key"}, "not a regular file"},
		{"gate bundle", []string{"gate", digest, "--env", "prod", "--trust", trustFile, "--key", key + ".key", "--bundle", fifo}, "not a regular file"},
		{"gate policy", []string{"gate", digest, "--env", "prod", "--trust", trustFile, "--key", key + ".key", "--policy", fifo}, "not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ta := newTestApp(t)
			ta.env["PATH"] = "/usr/bin:/bin"
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan int, 1)
			go func() { done <- Main(ctx, ta.App, tc.args) }()
			select {
			case code := <-done:
				if code != ExitBadInput {
					t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, ExitBadInput, ta.out, ta.errOut)
				}
				if msg := ta.errOut.String(); !strings.Contains(msg, fifo) || !strings.Contains(msg, tc.want) {
					t.Errorf("message does not name the FIFO and say %q: %s", tc.want, msg)
				}
			case <-time.After(10 * time.Second):
				cancel()
				t.Fatalf("hallmark %s blocked on a FIFO", strings.Join(tc.args, " "))
			}
		})
	}
}
