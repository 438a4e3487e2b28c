package oci_test

import (
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/hallmark-dev/hallmark/oci"
)

// inProcess serves every request, whatever its host, from one registry
// handler: the fuzzer exercises the real protocol without a network.
type inProcess struct{ h http.Handler }

func (p inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	sr := r.Clone(r.Context()) // as a server would receive it
	if sr.Body == nil {
		sr.Body = http.NoBody
	}
	sr.RequestURI = r.URL.RequestURI()
	rec := httptest.NewRecorder()
	p.h.ServeHTTP(rec, sr)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

var sha256Digest = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// FuzzResolve feeds untrusted image references (as written in pod specs)
// to a resolver.
func FuzzResolve(f *testing.F) {
	rt := inProcess{registry.New(registry.Logger(log.New(io.Discard, "", 0)))}
	img, err := random.Image(64, 1)
	if err != nil {
		f.Fatal(err)
	}
	if err := remote.Write(name.MustParseReference("r.example/app:v1"), img, remote.WithTransport(rt)); err != nil {
		f.Fatal(err)
	}
	want, _ := img.Digest()
	r, err := oci.NewResolver(oci.WithTransport(rt), oci.WithCache(0, 0))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"r.example/app:v1", "r.example/app", "r.example/app:v2", "nginx", "nginx:1.27@" + want.String(),
		"localhost:5000/a/b/c:d", "10.0.0.1/x:y", "", "@", ":", "r.example/app@sha256:abc", "UPPER:tag", strings.Repeat("a/", 200) + "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		d, err := r.Resolve(t.Context(), ref)
		if err != nil {
			re, ok := errors.AsType[*oci.ResolveError](err)
			if !ok || re.Ref != ref {
				t.Fatalf("error %v is not a ResolveError naming %q", err, ref)
			}
			for _, s := range []error{oci.ErrInvalidReference, oci.ErrNotFound, oci.ErrUnauthorized, oci.ErrTimeout, oci.ErrUnreachable, oci.ErrRegistry} {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("error %v wraps no sentinel", err)
		}
		if !sha256Digest.MatchString(d) {
			t.Fatalf("Resolve(%q) = %q, not a sha256 digest", ref, d)
		}
		if !strings.Contains(ref, "@") && d != want.String() {
			t.Fatalf("Resolve(%q) = %q, but the registry holds only %s", ref, d, want)
		}
	})
}

// FuzzParseDockerConfig feeds untrusted Docker config.json files.
func FuzzParseDockerConfig(f *testing.F) {
	for _, s := range []string{
		`{"auths": {"https://index.docker.io/v1/": {"auth": "dXNlcjpwYXNz"}}}`,
		`{"auths": {"r.example:5000": {"username": "u", "password": "p"}, "ghcr.io": {}}}`,
		`{"auths": {"r.example": {"identitytoken": "t"}}, "credsStore": "desktop"}`,
		`{"auths": {"docker.io": {"auth": "eA=="}, "index.docker.io": {"auth": "dTpw"}}}`,
		`{}`, `[]`, `{"auths": null}`, `{"auths": {"": {"auth": "dTpw"}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := oci.ParseDockerConfig(b)
		if err != nil {
			if !errors.Is(err, oci.ErrDockerConfig) {
				t.Fatalf("error %v is not ErrDockerConfig", err)
			}
			return
		}
		for _, reg := range d.Registries() {
			r, err := name.NewRegistry(reg)
			if err != nil {
				t.Fatalf("registry %q listed: %v", reg, err)
			}
			a, err := d.Resolve(r)
			if err != nil || a == authn.Anonymous {
				t.Fatalf("registry %q listed but resolves anonymously (%v)", reg, err)
			}
		}
	})
}
