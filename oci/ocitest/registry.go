package ocitest

import (
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Registry is one in-memory registry served twice: over TLS (Host; the
// requests a test makes there pass through its middleware and are
// counted) and over plain HTTP (PlainHost; neither).
type Registry struct {
	// Host is host:port of the TLS server, as written in references.
	Host string
	// PlainHost is host:port of the plain HTTP server.
	PlainHost string

	tls, plain *httptest.Server
	mu         sync.Mutex
	counts     map[string]int
}

// NewRegistry starts a registry; wrap, if given, wraps the TLS server's
// handler (to demand credentials, drop HEAD, stall...). Both servers stop
// when the test ends.
func NewRegistry(t testing.TB, wrap ...func(http.Handler) http.Handler) *Registry {
	t.Helper()
	h := registry.New(registry.Logger(log.New(io.Discard, "", 0)), registry.WithReferrersSupport(true))
	r := &Registry{counts: map[string]int{}}
	var served http.Handler = h
	for _, w := range wrap {
		served = w(served)
	}
	r.tls = httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		if strings.Contains(req.URL.Path, "/manifests/") {
			r.mu.Lock()
			r.counts[req.Method]++
			r.mu.Unlock()
		}
		served.ServeHTTP(rw, req)
	}))
	r.plain = httptest.NewServer(h)
	t.Cleanup(r.Close)
	r.Host = strings.TrimPrefix(r.tls.URL, "https://")
	r.PlainHost = strings.TrimPrefix(r.plain.URL, "http://")
	return r
}

// Transport trusts the TLS server's certificate.
func (r *Registry) Transport() http.RoundTripper { return r.tls.Client().Transport }

// CertPEM is the TLS server's certificate, PEM-encoded: trusting it is
// trusting the registry.
func (r *Registry) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: r.tls.Certificate().Raw})
}

// Manifests counts the manifest requests with method the TLS server got.
func (r *Registry) Manifests(method string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts[method]
}

// Close stops both servers: the registry is then unreachable.
func (r *Registry) Close() {
	r.tls.Close()
	r.plain.Close()
}

// PushImage pushes a random image as repo:tag (repo without the host) and
// returns its manifest digest.
func (r *Registry) PushImage(t testing.TB, repoTag string) string {
	t.Helper()
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	ref := r.tag(t, repoTag)
	if err := remote.Write(ref, img, remote.WithContext(t.Context())); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	return digest(t, img.Digest)
}

// PushIndex pushes a random two-image index as repo:tag and returns the
// index's digest.
func (r *Registry) PushIndex(t testing.TB, repoTag string) string {
	t.Helper()
	idx, err := random.Index(256, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	ref := r.tag(t, repoTag)
	if err := remote.WriteIndex(ref, idx, remote.WithContext(t.Context())); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	return digest(t, idx.Digest)
}

func (r *Registry) tag(t testing.TB, repoTag string) name.Tag {
	t.Helper()
	ref, err := name.NewTag(r.PlainHost+"/"+repoTag, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

func digest(t testing.TB, f func() (v1.Hash, error)) string {
	t.Helper()
	h, err := f()
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}
