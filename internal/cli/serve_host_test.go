package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/internal/server"
	"github.com/hallmark-dev/hallmark/internal/tooltest"
	"github.com/hallmark-dev/hallmark/tlog/host"
)

// TestServeHostsLogAndTSA runs `hallmark serve` with transparency.host:
// the server hosts a Rekor v2 log and a TSA, writes their trusted root and
// verifies uploads against it; `hallmark attest --tlog --tsa` logs and
// timestamps through them with the same client code as for rekor-tiles;
// `hallmark verify`, `hallmark tlog verify` (reading the hosted tiles over
// HTTP) and cosign accept the bundle, and a bundle whose log entry was
// swapped for another is rejected by both.
func TestServeHostsLogAndTSA(t *testing.T) {
	ta := newTestApp(t)
	dir := t.TempDir()
	ta.mustRun(t, "keygen", filepath.Join(dir, "gate"))
	ta.mustRun(t, "keygen", filepath.Join(dir, "signer"))
	writeFile(t, filepath.Join(dir, "trust.yaml"), "version: 1\nkeys:\n  - {name: signer, publicKey: signer.pub, roles: [approver]}\n  - {name: gate, publicKey: gate.pub, roles: [gate]}\n")
	writeFile(t, filepath.Join(dir, "policy.rego"), servePolicy)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	base := "http://" + addr
	token := "hm-test-canary-token-host"
	cfg := writeFile(t, filepath.Join(dir, "hallmark.yaml"), fmt.Sprintf(`store: {driver: sqlite, path: evidence.db}
trust: trust.yaml
policies: {prod: policy.rego}
gate: {key: gate.key}
auth: {openReads: true, insecureAnonymousAdmission: true, tokens: [{name: ci, sha256: %s, role: uploader}]}
transparency:
  host: {url: %s, dir: hosted, passphraseEnv: HM_HOSTED_PASS, log: true, tsa: true}
`, server.HashToken(token), base))
	rootFile := filepath.Join(dir, "hosted", host.TrustedRootFile)

	srv := newTestApp(t)
	srv.env["HM_HOSTED_PASS"] = "hosted-pass"
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, srv.App, []string{"serve", "--config", cfg, "--listen", addr, "--insecure-http", "--memory-limit-mib", "0", "--trusted-root", rootFile})
	}()
	stopped := false
	stop := func() int {
		if stopped {
			return 0
		}
		stopped = true
		cancel()
		select {
		case code := <-done:
			return code
		case <-time.After(30 * time.Second):
			t.Fatal("serve did not stop")
			return -1
		}
	}
	defer stop()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if len(done) > 0 || time.Now().After(deadline) {
			t.Fatalf("serve did not come up:\n%s", srv.errOut)
		}
	}

	// The keys are stored encrypted and private.
	for _, name := range []string{host.LogKeyName, host.TSAKeyName} {
		p := filepath.Join(dir, "hosted", name+".key")
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 || !bytes.Contains(ta.readFile(t, p), []byte("ENCRYPTED")) {
			t.Errorf("%s: mode %v, want 0600 and an encrypted key", p, st.Mode().Perm())
		}
	}

	art := writeFile(t, filepath.Join(dir, "app.bin"), "binary contents")
	pred := writeFile(t, filepath.Join(dir, "pred.json"), `{"note":"hello"}`)
	key := filepath.Join(dir, "signer")
	sign := func(name string, extra ...string) string {
		out := filepath.Join(dir, name)
		ta.mustRun(t, append(append([]string{"attest"}, extra...), "--key", key+".key", "--predicate-type", "https://example.com/p/v1", "--predicate", pred, "--out", out, art)...)
		return out
	}
	tlogFlags := []string{"--tlog", base + host.LogPath, "--tsa", base + host.TSAPath + host.TimestampPath, "--trusted-root", rootFile}
	first := sign("first.json", tlogFlags...)
	logged := sign("logged.json", tlogFlags...)
	if !strings.Contains(ta.errOut.String(), "logged in "+base+host.LogPath) {
		t.Errorf("attest did not report the hosted log:\n%s", ta.errOut)
	}
	ta.mustRun(t, "verify", "--trusted-root", rootFile, "--key", key+".pub", "--bundle", logged, art)

	upload := func(b []byte) (int, string) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/v1/bundles", bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, msg := upload(ta.readFile(t, logged)); code != http.StatusCreated {
		t.Fatalf("logged upload: %d %s", code, msg)
	}
	if code, msg := upload(ta.readFile(t, sign("unlogged.json"))); code != http.StatusUnprocessableEntity {
		t.Errorf("unlogged upload: %d %s, want 422", code, msg)
	}

	// The monitor reads the hosted tiles over HTTP and proves the stored
	// entries included.
	ta.mustRun(t, "tlog", "verify", "--trusted-root", rootFile, "--read", base+host.LogPath)
	if !strings.Contains(ta.out.String(), "all included") {
		t.Errorf("tlog verify: %s", ta.out)
	}

	// A bundle carrying another bundle's entry is rejected.
	swapped := swapTlogEntries(t, ta.readFile(t, logged), ta.readFile(t, first))
	swappedFile := writeFile(t, filepath.Join(dir, "swapped.json"), string(swapped))
	if code := ta.run("verify", "--trusted-root", rootFile, "--key", key+".pub", "--bundle", swappedFile, art); code != ExitRejected {
		t.Errorf("swapped entry: exit %d, want %d\n%s", code, ExitRejected, ta.errOut)
	}

	t.Run("cosign", func(t *testing.T) {
		cosign := tooltest.Find(t, "cosign")
		run := func(bundle string, extra ...string) ([]byte, error) {
			cmd := exec.Command(cosign, append(append([]string{"verify-blob-attestation", "--new-bundle-format", "--trusted-root", rootFile}, extra...),
				"--key", key+".pub", "--bundle", bundle, "--type", "https://example.com/p/v1", art)...)
			cmd.Env = append(os.Environ(), "SIGSTORE_NO_CACHE=1", "TUF_ROOT="+t.TempDir())
			return cmd.CombinedOutput()
		}
		for _, extra := range [][]string{nil, {"--use-signed-timestamps"}} {
			if out, err := run(logged, extra...); err != nil {
				t.Fatalf("cosign %v rejects the bundle logged and timestamped by the hosted services: %v\n%s", extra, err, out)
			}
		}
		if out, err := run(swappedFile, "--use-signed-timestamps"); err == nil {
			t.Fatalf("cosign accepts a bundle with another bundle's log entry:\n%s", out)
		}
	})

	if code := stop(); code != ExitOK {
		t.Errorf("serve exit %d\n%s", code, srv.errOut)
	}
}

// swapTlogEntries returns bundle with the log entries of other: a valid
// inclusion proof, for a different body.
func swapTlogEntries(t *testing.T, bundle, other []byte) []byte {
	t.Helper()
	var a, b map[string]any
	if err := json.Unmarshal(bundle, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(other, &b); err != nil {
		t.Fatal(err)
	}
	a["verificationMaterial"].(map[string]any)["tlogEntries"] = b["verificationMaterial"].(map[string]any)["tlogEntries"]
	out, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
