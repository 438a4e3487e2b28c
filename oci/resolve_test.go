package oci_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/internal/limits"
	"github.com/hallmark-dev/hallmark/oci"
	"github.com/hallmark-dev/hallmark/oci/ocitest"
)

func newResolver(t *testing.T, reg *ocitest.Registry, opts ...oci.Option) *oci.Resolver {
	t.Helper()
	r, err := oci.NewResolver(append([]oci.Option{oci.WithTransport(reg.Transport())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestResolveTagAndIndex(t *testing.T) {
	reg := ocitest.NewRegistry(t)
	img := reg.PushImage(t, "team/app:v1")
	idx := reg.PushIndex(t, "team/multi:v2")
	r := newResolver(t, reg)
	tests := []struct{ ref, want string }{
		{reg.Host + "/team/app:v1", img},
		// A multi-platform image resolves to its index, which is what a
		// node pulls by digest.
		{reg.Host + "/team/multi:v2", idx},
		// A digest resolves to itself, without a request (counted below).
		{reg.Host + "/team/app:v1@" + img, img},
		{reg.Host + "/team/other@" + idx, idx},
	}
	for _, tc := range tests {
		got, err := r.Resolve(t.Context(), tc.ref)
		if err != nil || got != tc.want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", tc.ref, got, err, tc.want)
		}
	}
	if n := reg.Manifests(http.MethodHead); n != 2 {
		t.Errorf("%d HEAD requests, want 2 (one per tag)", n)
	}
	if n := reg.Manifests(http.MethodGet); n != 0 {
		t.Errorf("%d GET requests, want none: HEAD gave the digest", n)
	}
}

// noHead answers HEAD for manifests as some registries do: without a
// digest header.
func noHead(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead && strings.Contains(r.URL.Path, "/manifests/") {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func TestResolveFallsBackToGet(t *testing.T) {
	reg := ocitest.NewRegistry(t, noHead)
	img := reg.PushImage(t, "app:v1")
	got, err := newResolver(t, reg).Resolve(t.Context(), reg.Host+"/app:v1")
	if err != nil || got != img {
		t.Fatalf("Resolve = %q, %v; want %q", got, err, img)
	}
	if h, g := reg.Manifests(http.MethodHead), reg.Manifests(http.MethodGet); h != 1 || g != 1 {
		t.Errorf("HEAD %d, GET %d; want one each", h, g)
	}
}

// basicAuth demands user:pass.
func basicAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "robot" || p != "s3cret" {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// stall never answers a manifest request before the client gives up.
func stall(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/manifests/") {
			<-r.Context().Done()
			return
		}
		next.ServeHTTP(w, r)
	})
}

func TestResolveErrors(t *testing.T) {
	tests := []struct {
		name    string
		wrap    []func(http.Handler) http.Handler
		ref     func(reg *ocitest.Registry) string
		opts    []oci.Option
		down    bool
		want    error
		wantMsg string
	}{
		{name: "unknown tag", ref: func(reg *ocitest.Registry) string { return reg.Host + "/app:v9" }, want: oci.ErrNotFound, wantMsg: "MANIFEST_UNKNOWN"},
		{name: "unknown repository", ref: func(reg *ocitest.Registry) string { return reg.Host + "/nobody/here:v1" }, want: oci.ErrNotFound},
		{name: "bad reference", ref: func(*ocitest.Registry) string { return "UPPER/Case::x" }, want: oci.ErrInvalidReference},
		{name: "non-sha256 digest", ref: func(reg *ocitest.Registry) string { return reg.Host + "/app@sha512:" + strings.Repeat("a", 128) }, want: oci.ErrInvalidReference},
		{name: "credentials required", wrap: []func(http.Handler) http.Handler{basicAuth}, ref: func(reg *ocitest.Registry) string { return reg.Host + "/app:v1" }, want: oci.ErrUnauthorized},
		{name: "registry down", down: true, ref: func(reg *ocitest.Registry) string { return reg.Host + "/app:v1" }, want: oci.ErrUnreachable},
		{name: "registry stalls", wrap: []func(http.Handler) http.Handler{stall}, opts: []oci.Option{oci.WithTimeout(300 * time.Millisecond)},
			ref: func(reg *ocitest.Registry) string { return reg.Host + "/app:v1" }, want: oci.ErrTimeout, wantMsg: "after 300ms"},
		{name: "manifest over the size limit", wrap: []func(http.Handler) http.Handler{noHead}, opts: []oci.Option{oci.WithMaxManifestBytes(64)},
			ref: func(reg *ocitest.Registry) string { return reg.Host + "/app:v1" }, want: limits.ErrTooLarge},
		{name: "plain HTTP registry not listed as insecure", ref: func(reg *ocitest.Registry) string { return reg.PlainHost + "/app:v1" }, want: oci.ErrUnreachable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg := ocitest.NewRegistry(t, tc.wrap...)
			reg.PushImage(t, "app:v1")
			r := newResolver(t, reg, tc.opts...)
			if tc.down {
				reg.Close()
			}
			ref := tc.ref(reg)
			start := time.Now()
			got, err := r.Resolve(t.Context(), ref)
			if err == nil {
				t.Fatalf("Resolve(%q) = %q, want an error", ref, got)
			}
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("failed after %v", took)
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("error %v is not %v", err, tc.want)
			}
			re, ok := errors.AsType[*oci.ResolveError](err)
			if !ok || re.Ref != ref || !strings.Contains(err.Error(), fmt.Sprintf("%q", ref)) {
				t.Errorf("error %v does not name %q", err, ref)
			}
			t.Log(err)
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("error %v does not say %q", err, tc.wantMsg)
			}
		})
	}
}

// A plain HTTP registry that is not listed is named, so that the caller can
// say what to list (the error named only the library option before).
func TestResolvePlainHTTPNamesRegistry(t *testing.T) {
	reg := ocitest.NewRegistry(t)
	reg.PushImage(t, "app:v1")
	_, err := newResolver(t, reg).Resolve(t.Context(), reg.PlainHost+"/app:v1")
	pe, ok := errors.AsType[*oci.PlainHTTPError](err)
	if !ok || pe.Registry != reg.PlainHost || !errors.Is(err, oci.ErrUnreachable) {
		t.Fatalf("error %v (%T): want a PlainHTTPError naming %s that is ErrUnreachable", err, err, reg.PlainHost)
	}
	if !strings.Contains(err.Error(), "registry "+reg.PlainHost+" speaks plain HTTP") {
		t.Errorf("error %q does not say which registry speaks plain HTTP", err)
	}
}

func TestResolveCallerDeadline(t *testing.T) {
	reg := ocitest.NewRegistry(t, stall)
	r := newResolver(t, reg, oci.WithTimeout(time.Second)) // the flight outlives the caller
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := r.Resolve(ctx, reg.Host+"/app:v1")
	if !errors.Is(err, oci.ErrTimeout) {
		t.Fatalf("error %v, want a timeout", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("the caller waited %v beyond its 200ms deadline", took)
	}
}

func TestResolveDockerConfig(t *testing.T) {
	reg := ocitest.NewRegistry(t, basicAuth)
	img := reg.PushImage(t, "app:v1")
	path := filepath.Join(t.TempDir(), "config.json")
	cfg := fmt.Sprintf(`{"auths": {"https://%s": {"auth": %q}, "ghcr.io": {}}}`, reg.Host, base64.StdEncoding.EncodeToString([]byte("robot:s3cret")))
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := newResolver(t, reg, oci.WithDockerConfig(path)).Resolve(t.Context(), reg.Host+"/app:v1")
	if err != nil || got != img {
		t.Fatalf("Resolve with credentials = %q, %v; want %q", got, err, img)
	}
	if _, err := oci.NewResolver(oci.WithDockerConfig(filepath.Join(t.TempDir(), "missing.json"))); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("missing config: %v", err)
	}
}

func TestResolveRootCAs(t *testing.T) {
	reg := ocitest.NewRegistry(t)
	img := reg.PushImage(t, "app:v1")
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(reg.CertPEM()) {
		t.Fatal("no certificate")
	}
	r, err := oci.NewResolver(oci.WithRootCAs(pool))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := r.Resolve(t.Context(), reg.Host+"/app:v1"); err != nil || got != img {
		t.Fatalf("with the registry's CA: %q, %v", got, err)
	}
	r, err = oci.NewResolver(oci.WithRootCAs(x509.NewCertPool())) // trusts nobody
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Resolve(t.Context(), reg.Host+"/app:v1"); !errors.Is(err, oci.ErrUnreachable) || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("without the registry's CA: %v", err)
	}
}

func TestResolvePlainHTTPInsecure(t *testing.T) {
	reg := ocitest.NewRegistry(t)
	img := reg.PushImage(t, "app:v1")
	r, err := oci.NewResolver(oci.WithPlainHTTPInsecure(reg.PlainHost))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := r.Resolve(t.Context(), reg.PlainHost+"/app:v1"); err != nil || got != img {
		t.Fatalf("listed plain HTTP registry: %q, %v", got, err)
	}
	if _, err := oci.NewResolver(oci.WithPlainHTTPInsecure("http://" + reg.PlainHost)); err == nil {
		t.Error("a URL accepted as a registry host")
	}
}

func TestResolveCache(t *testing.T) {
	reg := ocitest.NewRegistry(t)
	first := reg.PushImage(t, "app:v1")
	reg.PushImage(t, "app:v2")
	reg.PushImage(t, "app:v3")
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	r := newResolver(t, reg, oci.WithCache(30*time.Second, 2), oci.WithClock(func() time.Time { return now }))
	resolve := func(tag string) string {
		t.Helper()
		d, err := r.Resolve(t.Context(), reg.Host+"/app:"+tag)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	heads := func() int { return reg.Manifests(http.MethodHead) }
	resolve("v1")
	resolve("v1")
	if heads() != 1 {
		t.Fatalf("%d HEADs for two resolutions within the TTL, want 1", heads())
	}
	moved := reg.PushImage(t, "app:v1") // the tag moves
	if d := resolve("v1"); d != first {
		t.Errorf("within the TTL: %s, want the cached %s", d, first)
	}
	now = now.Add(30 * time.Second)
	if d := resolve("v1"); d != moved || heads() != 2 {
		t.Errorf("after the TTL: %s after %d HEADs, want %s after 2", d, heads(), moved)
	}
	resolve("v2")
	resolve("v3") // evicts v1, the least recently used of the two entries
	resolve("v3")
	resolve("v1")
	if heads() != 5 {
		t.Errorf("%d HEADs, want 5: the cache holds at most two tags", heads())
	}

	off := newResolver(t, reg, oci.WithCache(0, 0))
	before := heads()
	for range 3 {
		if _, err := off.Resolve(t.Context(), reg.Host+"/app:v2"); err != nil {
			t.Fatal(err)
		}
	}
	if n := heads() - before; n != 3 {
		t.Errorf("cache disabled: %d HEADs for 3 resolutions", n)
	}
}

// gate holds manifest requests until released.
type gate struct {
	once    sync.Once
	arrived chan struct{}
	release chan struct{}
}

func (g *gate) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/manifests/") && r.Method == http.MethodHead {
			g.once.Do(func() { close(g.arrived) })
			<-g.release
		}
		next.ServeHTTP(w, r)
	})
}

func TestResolveBurstIsOneRequest(t *testing.T) {
	g := &gate{arrived: make(chan struct{}), release: make(chan struct{})}
	reg := ocitest.NewRegistry(t, g.wrap)
	img := reg.PushImage(t, "app:v1")
	r := newResolver(t, reg, oci.WithCache(0, 0)) // only the shared flight
	const pods = 20
	var wg sync.WaitGroup
	errs := make(chan error, pods)
	for range pods {
		wg.Go(func() {
			d, err := r.Resolve(t.Context(), reg.Host+"/app:v1")
			if err == nil && d != img {
				err = fmt.Errorf("resolved %s, want %s", d, img)
			}
			errs <- err
		})
	}
	<-g.arrived
	time.Sleep(200 * time.Millisecond) // let the other callers join the flight
	close(g.release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := reg.Manifests(http.MethodHead); n != 1 {
		t.Errorf("%d HEAD requests for a burst of %d, want 1", n, pods)
	}
}

func TestNewResolverRejectsContradictions(t *testing.T) {
	for name, opts := range map[string][]oci.Option{
		"zero timeout":           {oci.WithTimeout(0)},
		"negative cache":         {oci.WithCache(-time.Second, 1)},
		"huge limit":             {oci.WithMaxManifestBytes(1 << 40)},
		"url as host":            {oci.WithPlainHTTPInsecure("https://r.example")},
		"two credential sources": {oci.WithDockerConfig("config.json"), oci.WithKeychain(new(oci.DockerConfig))},
		"CAs and a transport":    {oci.WithRootCAs(x509.NewCertPool()), oci.WithTransport(http.DefaultTransport)},
	} {
		if _, err := oci.NewResolver(opts...); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
