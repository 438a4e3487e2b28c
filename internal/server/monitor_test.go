package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/tlog"
	"github.com/hallmark-dev/hallmark/tlog/tlogtest"
	"github.com/hallmark-dev/hallmark/trust"
	"github.com/hallmark-dev/hallmark/vuln"
)

// syncBuffer is a log sink the test reads while the server writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// loggedScan is a vulnerability scan signed by key, logged in the log and
// timestamped by the TSA of svc.
func loggedScan(t *testing.T, key *keys.PrivateKey, svc *tlogtest.Services, digest, id string) []byte {
	t.Helper()
	now := time.Now().UTC()
	p := vuln.VulnsPredicate{
		Scanner: vuln.PredicateScanner{URI: "https://hallmark.dev/scanners/vuln", DB: vuln.PredicateDB{LastUpdate: now},
			Result: []vuln.PredicateResult{{ID: id, Severity: []vuln.PredicateSeverity{{Method: "hallmark", Score: "low"}}}}},
		Metadata: vuln.PredicateMetadata{ScanStartedOn: now, ScanFinishedOn: now},
	}
	pred, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	st, err := attest.NewStatement([]attest.Subject{subject(digest)}, vuln.PredicateType, pred)
	if err != nil {
		t.Fatal(err)
	}
	b, err := attest.Sign(t.Context(), key, st, attest.WithTransparencyLog(svc.Log.URL), attest.WithTimestampAuthority(svc.TSA.URL))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// metricsAt fetches /metrics from a running server.
func metricsAt(t *testing.T, base string) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+readerToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// waitMetric polls /metrics until a line matches re.
func waitMetric(t *testing.T, base, re string) string {
	t.Helper()
	rx := regexp.MustCompile(`(?m)` + re)
	deadline := time.Now().Add(30 * time.Second)
	for {
		m := metricsAt(t, base)
		if rx.MatchString(m) {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("no metric matching %s:\n%s", re, m)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestServeMonitorsTransparencyLog runs `serve`'s log monitor against a
// real rekor-tiles log: uploads are verified against the trusted root (an
// unlogged bundle is refused), a good log sets the success metrics, a
// leaf tile rewritten on disk (a dropped entry) and a log rolled back to an
// older checkpoint (a fork) are counted by reason and logged, and shutdown
// stops the monitor.
func TestServeMonitorsTransparencyLog(t *testing.T) {
	svc := tlogtest.Start(t)
	tr, err := tlog.ParseRoot(svc.Root)
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(t)
	// rekor-tiles takes hashedrekord entries from ECDSA keys (an Ed25519
	// signature over a digest does not verify there).
	w.scanner = attesttest.Key(t, keys.ECDSAP256)
	w.trust = trust.New(
		trust.Key{Name: "scanner", Public: w.scanner.Public(), Roles: []trust.Role{trust.RoleScanner}},
		trust.Key{Name: "gate", Public: w.gateKey.Public(), Roles: []trust.Role{trust.RoleGate}},
	)
	dir := t.TempDir()
	readDir := filepath.Join(dir, "tiles")
	state := filepath.Join(dir, "state", "checkpoint")
	cfg := testConfig(t, fmt.Sprintf("transparency:\n  monitor: {read: %s, interval: 1s, state: %s}\n", readDir, state))
	st := openSQLite(t)
	pols, err := policy.LoadSpecs(t.Context(), cfg.Policies)
	if err != nil {
		t.Fatal(err)
	}
	g, err := gate.New(st, w.trust, pols, w.gateKey, gate.WithVerifyOptions(attest.WithTrustedRoot(tr)))
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	s, err := New(cfg, st, w.trust, g, WithTrustedRoot(tr), WithLogger(slog.New(slog.NewJSONHandler(logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()

	// Two logged bundles, with a copy of the log taken after the first.
	upload := func(body []byte) (int, string) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/v1/bundles", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+uploaderToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	first := loggedScan(t, w.scanner, svc, digestA, "CVE-0000-0001")
	older := filepath.Join(dir, "older")
	if err := os.CopyFS(older, os.DirFS(svc.Log.StorageDir)); err != nil {
		t.Fatal(err)
	}
	second := loggedScan(t, w.scanner, svc, digestB, "CVE-0000-0002")
	if err := os.CopyFS(readDir, os.DirFS(svc.Log.StorageDir)); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln, nil) }()
	defer func() {
		cancel()
		<-served
	}()

	for _, b := range [][]byte{first, second} {
		if code, msg := upload(b); code != http.StatusCreated {
			t.Fatalf("logged bundle: %d %s", code, msg)
		}
	}
	if code, msg := upload(criticalVulnLow(t, w, digestC, "CVE-0000-0003")); code != http.StatusUnprocessableEntity || !strings.Contains(msg, "trusted root") {
		t.Errorf("unlogged bundle against a trusted root: %d %s, want 422 naming the trusted root", code, msg)
	}

	m := waitMetric(t, base, `^hallmark_tlog_monitor_included_entries 2$`)
	if !strings.Contains(m, "hallmark_tlog_checkpoint_size 2\n") {
		t.Errorf("checkpoint size:\n%s", m)
	}
	if !regexp.MustCompile(`(?m)^hallmark_tlog_monitor_last_success_timestamp_seconds [0-9.e+]+$`).MatchString(m) {
		t.Errorf("no success timestamp:\n%s", m)
	}
	if !strings.Contains(m, `hallmark_tlog_monitor_failures_total{reason="not_included"} 0`) {
		t.Errorf("failures not at zero:\n%s", m)
	}
	waitLog := func(what string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !strings.Contains(logs.String(), what); time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("log does not contain %s:\n%s", what, logs)
			}
		}
	}
	if raw, err := os.ReadFile(state); err != nil || !bytes.HasPrefix(raw, []byte("127.0.0.1\n2\n")) {
		t.Errorf("state file: %v %q", err, raw)
	}

	// A dropped entry: the last leaf tile rewritten on disk.
	tiles, _ := filepath.Glob(filepath.Join(readDir, "tile", "0", "000*"))
	if len(tiles) == 0 {
		t.Fatal("no level-0 tile on disk")
	}
	tile := tiles[len(tiles)-1]
	if fi, err := os.Stat(tile); err == nil && fi.IsDir() {
		inner, _ := filepath.Glob(filepath.Join(tile, "*"))
		tile = inner[len(inner)-1]
	}
	raw, err := os.ReadFile(tile)
	if err != nil {
		t.Fatal(err)
	}
	raw[0] ^= 1
	if err := os.WriteFile(tile, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	waitMetric(t, base, `^hallmark_tlog_monitor_failures_total\{reason="not_included"\} [1-9]`)
	waitLog(`"reason":"not_included"`)

	// A fork: the log now serves an older checkpoint than the one seen.
	if err := os.RemoveAll(readDir); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(older, readDir); err != nil {
		t.Fatal(err)
	}
	waitMetric(t, base, `^hallmark_tlog_monitor_failures_total\{reason="inconsistent"\} [1-9]`)
	waitLog(`"reason":"inconsistent"`)
	if m := metricsAt(t, base); !strings.Contains(m, "hallmark_tlog_checkpoint_size 2\n") {
		t.Errorf("a failed check moved the checkpoint gauge:\n%s", m)
	}

	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("serve: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not return after shutdown")
	}
	served <- nil // for the deferred wait
}

// TestMonitorNeedsTrustedRoot: a monitor without a trusted root is a
// configuration error naming the fix, and monitor settings without read
// are refused.
func TestMonitorNeedsTrustedRoot(t *testing.T) {
	w := newWorld(t)
	cfg := testConfig(t, "transparency:\n  monitor: {read: /nonexistent}\n")
	if cfg.Transparency.Monitor.Interval != DefaultMonitorInterval {
		t.Errorf("default interval %v", cfg.Transparency.Monitor.Interval)
	}
	st := openSQLite(t)
	pols, err := policy.LoadSpecs(t.Context(), cfg.Policies)
	if err != nil {
		t.Fatal(err)
	}
	g, err := gate.New(st, w.trust, pols, w.gateKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(cfg, st, w.trust, g); err == nil || !strings.Contains(err.Error(), "--trusted-root") {
		t.Errorf("monitor without a trusted root: %v", err)
	}
	for _, extra := range []string{"transparency:\n  monitor: {interval: 1m}\n", "transparency:\n  monitor: {read: x, interval: 1ms}\n"} {
		yml := "store: {driver: sqlite, path: e.db}\ntrust: t.yaml\npolicies: {prod: builtin}\ngate: {key: g.key}\nauth: {admissionToken: true}\n" + extra
		if _, err := ParseConfig([]byte(yml), "."); err == nil || !strings.Contains(err.Error(), "transparency.monitor") {
			t.Errorf("%q: %v", extra, err)
		}
	}
}
