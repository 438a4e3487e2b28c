// Package tlogtest starts the real Sigstore services Hallmark logs to and
// timestamps with, on loopback, for tests and benchmarks: the rekor-tiles
// POSIX server (a Rekor v2 transparency log) and Sigstore's
// timestamp-server (an RFC 3161 authority), and for keyless signing the
// fulcio server with an OIDC issuer (StartKeyless), and writes a
// trusted_root.json that trusts them.
//
// The binaries come from scripts/tools.sh: $HALLMARK_TOOLS_BIN, then
// $HOME/.cache/hallmark/tools/bin, then PATH. When one is missing the test
// is skipped, or fails when CI=true.
package tlogtest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/tlog"

	"github.com/hallmark-dev/hallmark/internal/tooltest"
)

// Log is a running rekor-tiles log.
type Log struct {
	// URL is the write endpoint's base URL, http://127.0.0.1:PORT; its host
	// name, 127.0.0.1, is the checkpoint origin.
	URL string
	// ReadURL serves the log's tiles and checkpoint (the storage directory
	// over HTTP, as a CDN would in production).
	ReadURL string
	// StorageDir holds the tiles and checkpoint on disk.
	StorageDir string
	// PublicKey verifies its checkpoints.
	PublicKey crypto.PublicKey
	// Started is when it started; the trusted root trusts its key from a
	// minute before.
	Started time.Time
}

// TSA is a running timestamp-server.
type TSA struct {
	// URL is the RFC 3161 endpoint, http://127.0.0.1:PORT/api/v1/timestamp.
	URL string
	// Chain is its certificate chain, leaf first.
	Chain []*x509.Certificate
}

// Services are a log and a TSA and a trusted root trusting both.
type Services struct {
	Log *Log
	TSA *TSA
	// Root is the trusted_root.json; RootPath is a file holding it.
	Root     []byte
	RootPath string
}

// Start starts a log and a TSA for the test and stops them when it ends.
func Start(t testing.TB) *Services {
	t.Helper()
	l := StartLog(t)
	ts := StartTSA(t)
	raw, err := tlog.NewRoot(
		[]tlog.Log{{BaseURL: l.URL, PublicKey: l.PublicKey, ValidFrom: l.Started.Add(-time.Minute)}},
		[]tlog.TSA{{URL: ts.URL, Chain: ts.Chain}})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "trusted_root.json")
	if err := os.WriteFile(p, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return &Services{Log: l, TSA: ts, Root: raw, RootPath: p}
}

// StartLog starts rekor-server-posix with a fresh ECDSA P-256 checkpoint key
// and an empty storage directory.
func StartLog(t testing.TB) *Log {
	t.Helper()
	bin := tooltest.Find(t, "rekor-server-posix")
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(dir, "log.key")
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	storage := filepath.Join(dir, "tiles")
	if err := os.Mkdir(storage, 0o755); err != nil {
		t.Fatal(err)
	}
	ports := freePorts(t, 3)
	started := time.Now()
	start(t, "rekor-server-posix", bin, []string{"serve",
		"--hostname", "127.0.0.1",
		"--http-address", "127.0.0.1", "--http-port", strconv.Itoa(ports[0]),
		"--grpc-address", "127.0.0.1", "--grpc-port", strconv.Itoa(ports[1]),
		"--http-metrics-port", strconv.Itoa(ports[2]),
		"--storage-dir", storage,
		"--signer-filepath", keyPath,
		"--checkpoint-interval", "100ms",
		"--batch-max-age", "10ms",
		"--log-level", "warn",
	}, fmt.Sprintf("http://127.0.0.1:%d/healthz", ports[0]))
	read := httptest.NewServer(http.FileServer(http.Dir(storage)))
	t.Cleanup(read.Close)
	return &Log{URL: fmt.Sprintf("http://127.0.0.1:%d", ports[0]), ReadURL: read.URL, StorageDir: storage, PublicKey: key.Public(), Started: started}
}

// StartTSA starts timestamp-server with its in-memory signer. The server
// always binds its metrics to port 2112, so one test at a time on a machine
// may run it: StartTSA waits for a lock file in the temporary directory.
func StartTSA(t testing.TB) *TSA {
	t.Helper()
	bin := tooltest.Find(t, "timestamp-server")
	lock(t, filepath.Join(os.TempDir(), "hallmark-timestamp-server-2112.lock"))
	waitPortFree(t, 2112, 2*time.Minute) // a server not started here (the demo's, say)
	port := freePorts(t, 1)[0]
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	start(t, "timestamp-server", bin, []string{"serve",
		"--host", "127.0.0.1", "--port", strconv.Itoa(port),
		"--timestamp-signer", "memory",
		"--disable-ntp-monitoring",
	}, base+"/ping")
	resp, err := http.Get(base + "/api/v1/timestamp/certchain")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	pemChain, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("timestamp-server certificate chain: %s %v", resp.Status, err)
	}
	var chain []*x509.Certificate
	for rest := pemChain; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		chain = append(chain, c)
	}
	if len(chain) == 0 {
		t.Fatalf("timestamp-server returned no certificates: %q", pemChain)
	}
	return &TSA{URL: base + "/api/v1/timestamp", Chain: chain}
}

// waitPortFree waits until nothing listens on port (all interfaces).
func waitPortFree(t testing.TB, port int, max time.Duration) {
	t.Helper()
	deadline := time.Now().Add(max)
	for {
		l, err := net.Listen("tcp", ":"+strconv.Itoa(port))
		if err == nil {
			l.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("port %d stays in use (timestamp-server binds its metrics there): %v", port, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// lock takes an exclusive flock on path until the test ends.
func lock(t testing.TB, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	})
}

// start runs bin until the test ends and waits until ready answers.
func start(t testing.TB, name, bin string, args []string, ready string) {
	t.Helper()
	var out lockedBuffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, out.String())
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("%s exited: %v\n%s", name, err, out.String())
		case <-ctx.Done():
			t.Fatalf("%s not ready at %s after 60s:\n%s", name, ready, out.String())
		case <-time.After(50 * time.Millisecond):
		}
		resp, err := http.Get(ready)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
	}
}

func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ls []net.Listener
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 1<<20 {
		return len(p), nil
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
