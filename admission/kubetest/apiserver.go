package kubetest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/internal/tooltest"
)

// RequireEnv, set to 1, makes a missing kube-apiserver or etcd fail the
// test instead of skipping it (.ci/run sets it when it builds the API
// server).
const RequireEnv = "HALLMARK_REQUIRE_KUBE"

// Config is what the API server needs from the test.
type Config struct {
	// WebhookClients maps a webhook's server name, as the API server looks
	// it up (service.namespace.svc, with ":port" unless the port is 443),
	// to the client certificate it presents there: the kubeconfig of the
	// admission configuration that docs/server.md describes.
	WebhookClients map[string]Pair
}

// APIServer is a running kube-apiserver with its own etcd, reachable on
// loopback with a client certificate of the system:masters group.
type APIServer struct {
	// URL is the API server's base URL (https://127.0.0.1:PORT).
	URL    string
	client *http.Client
}

// Start starts etcd and kube-apiserver for the test and waits until the
// API server is ready; both stop when the test ends. Without the binaries
// the test is skipped, or fails when $HALLMARK_REQUIRE_KUBE is 1.
func Start(t testing.TB, cfg Config) *APIServer {
	t.Helper()
	apiserverBin, ok := tooltest.Lookup("kube-apiserver")
	etcdBin, okEtcd := tooltest.Lookup("etcd")
	if !ok || !okEtcd {
		msg := "kube-apiserver (scripts/tools.sh kube-apiserver) or etcd (apt-get install etcd-server) not found"
		if os.Getenv(RequireEnv) == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	dir := t.TempDir()
	etcdURL := startEtcd(t, etcdBin, filepath.Join(dir, "etcd"))

	ca := NewCA(t, "kubetest cluster CA")
	serving := ca.Server(t, dir, "apiserver", "127.0.0.1", "localhost")
	admin := ca.Client(t, dir, "admin", "kubetest-admin", "system:masters")
	saKey, saPub := serviceAccountKey(t, dir)
	writeFile(t, filepath.Join(dir, "ca.crt"), ca.PEM)
	admissionConfig := writeAdmissionConfig(t, dir, cfg.WebhookClients)

	port := FreePort(t)
	proc := startProcess(t, "kube-apiserver", apiserverBin,
		"--etcd-servers="+etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", port),
		"--endpoint-reconciler-type=none", // nothing to route to: no kube-proxy
		"--cert-dir="+filepath.Join(dir, "certs"),
		"--tls-cert-file="+serving.CertFile, "--tls-private-key-file="+serving.KeyFile,
		"--client-ca-file="+filepath.Join(dir, "ca.crt"),
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file="+saPub, "--service-account-signing-key-file="+saKey,
		"--service-cluster-ip-range=10.96.0.0/24",
		"--admission-control-config-file="+admissionConfig,
		"--enable-priority-and-fairness=false", "--profiling=false",
	)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.PEM)
	s := &APIServer{
		URL: fmt.Sprintf("https://127.0.0.1:%d", port),
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
			RootCAs: pool, Certificates: []tls.Certificate{admin.TLS(t)},
		}}},
	}
	s.waitReady(t, proc, 3*time.Minute)
	return s
}

// serviceAccountKey writes the key that signs service account tokens (SEC1
// PEM) and its public key (PKIX PEM), the forms the API server reads, and
// returns their paths.
func serviceAccountKey(t testing.TB, dir string) (key, pub string) {
	t.Helper()
	k := newKey(t)
	sec1, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	pkix, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	key, pub = filepath.Join(dir, "sa.key"), filepath.Join(dir, "sa.pub")
	writeFile(t, key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}))
	writeFile(t, pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix}))
	return key, pub
}

// writeAdmissionConfig writes the AdmissionConfiguration whose kubeconfig
// gives the webhook client certificates, and returns its path.
func writeAdmissionConfig(t testing.TB, dir string, clients map[string]Pair) string {
	t.Helper()
	type user struct {
		Name string            `json:"name"`
		User map[string]string `json:"user"`
	}
	kc := struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Users      []user `json:"users"`
	}{APIVersion: "v1", Kind: "Config", Users: []user{}}
	for name, p := range clients {
		kc.Users = append(kc.Users, user{Name: name, User: map[string]string{"client-certificate": p.CertFile, "client-key": p.KeyFile}})
	}
	kubeconfig := filepath.Join(dir, "webhook.kubeconfig")
	writeJSON(t, kubeconfig, kc)
	plugin := func(name string) map[string]any {
		return map[string]any{"name": name, "configuration": map[string]any{
			"apiVersion": "apiserver.config.k8s.io/v1", "kind": "WebhookAdmissionConfiguration", "kubeConfigFile": kubeconfig,
		}}
	}
	path := filepath.Join(dir, "admission-config.yaml")
	writeJSON(t, path, map[string]any{
		"apiVersion": "apiserver.config.k8s.io/v1", "kind": "AdmissionConfiguration",
		"plugins": []any{plugin("ValidatingAdmissionWebhook"), plugin("MutatingAdmissionWebhook")},
	})
	return path
}

func writeJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, b)
}

// startEtcd runs a single-member etcd storing into dir and returns its
// client URL.
func startEtcd(t testing.TB, bin, dir string) string {
	t.Helper()
	client := fmt.Sprintf("http://127.0.0.1:%d", FreePort(t))
	peer := fmt.Sprintf("http://127.0.0.1:%d", FreePort(t))
	p := startProcess(t, "etcd", bin, "--name=kubetest", "--data-dir="+dir,
		"--listen-client-urls="+client, "--advertise-client-urls="+client,
		"--listen-peer-urls="+peer, "--initial-advertise-peer-urls="+peer,
		"--initial-cluster=kubetest="+peer, "--log-level=warn")
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(client + "/health")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if bytes.Contains(body, []byte(`"health":"true"`)) {
				return client
			}
		}
		p.checkAlive(t)
		if time.Now().After(deadline) {
			t.Fatalf("etcd did not become healthy on %s: %v\n%s", client, err, p.logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *APIServer) waitReady(t testing.TB, p *process, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	var last string
	for time.Now().Before(deadline) {
		body, err := s.Do(t.Context(), http.MethodGet, "/readyz", "", nil)
		if err == nil {
			return
		}
		last = fmt.Sprint(err, string(body))
		p.checkAlive(t)
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("kube-apiserver not ready within %v: %s", within, last)
}

// StatusError is an API request the server refused: its HTTP code and the
// Status message (for an admission denial, the webhook's reasons).
type StatusError struct {
	Code    int
	Reason  string
	Message string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Code, e.Reason, e.Message)
}

// Do sends a request with body (JSON or, with contentType
// application/yaml, YAML) to path and returns the response body, or a
// *StatusError for a status other than 2xx.
func (s *APIServer) Do(ctx context.Context, method, path, contentType string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if contentType == "" {
		contentType = "application/json"
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		var st struct{ Reason, Message string }
		if json.Unmarshal(b, &st) != nil || st.Message == "" {
			st.Message = string(b)
		}
		return b, &StatusError{Code: resp.StatusCode, Reason: st.Reason, Message: st.Message}
	}
	return b, nil
}

// Create posts obj (marshalled to JSON) to the collection at path, e.g.
// /api/v1/namespaces/NS/pods, and returns the created object.
func (s *APIServer) Create(ctx context.Context, path string, obj any) ([]byte, error) {
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	return s.Do(ctx, http.MethodPost, path, "", b)
}

// CreateNamespace creates namespace name with labels and its "default"
// service account, which the ServiceAccount admission plugin needs before
// a pod can be created (a controller manager would make it).
func (s *APIServer) CreateNamespace(t testing.TB, name string, labels map[string]string) {
	t.Helper()
	ns := map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": name, "labels": labels}}
	if _, err := s.Create(t.Context(), "/api/v1/namespaces", ns); err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
	sa := map[string]any{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": map[string]any{"name": "default"}}
	if _, err := s.Create(t.Context(), "/api/v1/namespaces/"+name+"/serviceaccounts", sa); err != nil {
		t.Fatalf("create service account %s/default: %v", name, err)
	}
}

// FreePort returns a loopback port that was free a moment ago, for a
// child process to listen on. It is below Linux's ephemeral range
// (32768-60999): a port the kernel picks from that range can be taken by
// an outgoing connection before the child binds it, as etcd's once was in
// make test ("address already in use").
func FreePort(t testing.TB) int {
	t.Helper()
	for range 200 {
		p := 20000 + rand.IntN(32768-20000)
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		l.Close()
		return p
	}
	t.Fatal("no free loopback port between 20000 and 32767")
	return 0
}

// process is a child process whose output is kept for failure messages.
type process struct {
	name string
	done chan struct{}
	mu   sync.Mutex
	out  bytes.Buffer
}

func (p *process) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.out.Len() < 1<<20 {
		p.out.Write(b)
	}
	return len(b), nil
}

func (p *process) logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.out.String()
	if len(s) > 8000 {
		s = "..." + s[len(s)-8000:]
	}
	return s
}

func (p *process) checkAlive(t testing.TB) {
	t.Helper()
	select {
	case <-p.done:
		t.Fatalf("%s exited:\n%s", p.name, p.logs())
	default:
	}
}

// startProcess starts bin; it is stopped (SIGTERM, then SIGKILL after
// 10 s) when the test ends, and its output is logged if the test failed.
func startProcess(t testing.TB, name, bin string, args ...string) *process {
	t.Helper()
	p := &process{name: name, done: make(chan struct{})}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = p, p
	cmd.SysProcAttr = dieWithParent()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, strings.TrimSpace(p.logs()))
		}
	})
	return p
}

// ServeOnLoopback creates namespace ns (if missing) and in it a Service
// name of type ExternalName pointing at 127.0.0.1: the API server's
// service resolver then sends the webhook calls for name.ns.svc to the
// loopback address, at the port the webhook configuration names, where the
// test serves the webhook. (A ClusterIP would need kube-proxy.)
func (s *APIServer) ServeOnLoopback(t testing.TB, ns, name string) {
	t.Helper()
	nsObj := map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns}}
	if _, err := s.Create(t.Context(), "/api/v1/namespaces", nsObj); err != nil {
		if se, ok := err.(*StatusError); !ok || se.Code != http.StatusConflict {
			t.Fatalf("create namespace %s: %v", ns, err)
		}
	}
	svc := map[string]any{"apiVersion": "v1", "kind": "Service", "metadata": map[string]any{"name": name},
		"spec": map[string]any{"type": "ExternalName", "externalName": "127.0.0.1"}}
	if _, err := s.Create(t.Context(), "/api/v1/namespaces/"+ns+"/services", svc); err != nil {
		t.Fatalf("create service %s/%s: %v", ns, name, err)
	}
}
