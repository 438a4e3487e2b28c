package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/internal/server"
	"github.com/hallmark-dev/hallmark/tlog/tlogtest"
)

// TestServeTrustedRootAndMonitor runs `hallmark serve --trusted-root` with
// transparency.monitor against a real rekor-tiles log: an upload with no
// log entry is refused, a logged one stored, and the monitor proves it
// included and reports the log's size in /metrics until shutdown.
func TestServeTrustedRootAndMonitor(t *testing.T) {
	s := tlogtest.Start(t)
	ta := newTestApp(t)
	dir := t.TempDir()
	ta.mustRun(t, "keygen", filepath.Join(dir, "gate"))
	ta.mustRun(t, "keygen", filepath.Join(dir, "signer"))
	writeFile(t, filepath.Join(dir, "trust.yaml"), "version: 1\nkeys:\n  - {name: signer, publicKey: signer.pub, roles: [approver]}\n  - {name: gate, publicKey: gate.pub, roles: [gate]}\n")
	writeFile(t, filepath.Join(dir, "policy.rego"), servePolicy)
	token := "hm-test-canary-token-tlog"
	cfg := writeFile(t, filepath.Join(dir, "hallmark.yaml"), fmt.Sprintf(`store: {driver: sqlite, path: evidence.db}
trust: trust.yaml
policies: {prod: policy.rego}
gate: {key: gate.key}
auth: {openReads: true, insecureAnonymousAdmission: true, tokens: [{name: ci, sha256: %s, role: uploader}]}
transparency:
  monitor: {read: %s, interval: 1s, state: state/checkpoint}
`, server.HashToken(token), s.Log.ReadURL))

	art := writeFile(t, filepath.Join(dir, "app.bin"), "binary contents")
	pred := writeFile(t, filepath.Join(dir, "pred.json"), `{"note":"hello"}`)
	sign := func(name string, extra ...string) []byte {
		out := filepath.Join(dir, name)
		ta.mustRun(t, append(append([]string{"attest"}, extra...), "--key", filepath.Join(dir, "signer.key"), "--predicate-type", "https://example.com/p/v1", "--predicate", pred, "--out", out, art)...)
		return ta.readFile(t, out)
	}
	logged := sign("logged.json", "--tlog", s.Log.URL, "--tsa", s.TSA.URL)
	unlogged := sign("unlogged.json")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	base := "http://" + addr
	srv := newTestApp(t)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, srv.App, []string{"serve", "--config", cfg, "--listen", addr, "--insecure-http", "--memory-limit-mib", "0", "--trusted-root", s.RootPath})
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

	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
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
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if code, _ := get("/healthz"); code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not come up (exit %v)", len(done))
		}
	}
	if code, msg := upload(unlogged); code != http.StatusUnprocessableEntity || !strings.Contains(msg, "trusted root") {
		t.Errorf("unlogged upload: %d %s, want 422 naming the trusted root", code, msg)
	}
	if code, msg := upload(logged); code != http.StatusCreated {
		t.Fatalf("logged upload: %d %s", code, msg)
	}
	size := regexp.MustCompile(`(?m)^hallmark_tlog_checkpoint_size 1$`)
	included := regexp.MustCompile(`(?m)^hallmark_tlog_monitor_included_entries 1$`)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		_, m := get("/metrics")
		if size.MatchString(m) && included.MatchString(m) && strings.Contains(m, "hallmark_tlog_monitor_last_success_timestamp_seconds ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics do not show a checked log of 1 entry:\n%s", m)
		}
	}
	if code := stop(); code != ExitOK {
		t.Errorf("serve exit %d\n%s", code, srv.errOut)
	}
	if !strings.Contains(srv.errOut.String(), `"included":1`) {
		t.Errorf("the monitor never proved the stored entry included:\n%s", srv.errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "state", "checkpoint")); err != nil {
		t.Errorf("state file: %v", err)
	}
}
