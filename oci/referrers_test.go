package oci_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/hallmark-dev/hallmark/oci"
	"github.com/hallmark-dev/hallmark/oci/ocitest"
)

// Bundles attached to an image come back byte for byte, from a registry
// with the referrers API (go-containerregistry's) and from one without it
// (Debian's docker-registry 2.8, through the referrers tag).
func TestAttachReferrersFetch(t *testing.T) {
	type target struct {
		host     string
		opts     []oci.Option
		fallback bool
		push     func(t *testing.T, repoTag string, img v1.Image)
	}
	targets := map[string]func(t *testing.T) target{
		"ggcr-registry": func(t *testing.T) target {
			reg := ocitest.NewRegistry(t)
			return target{host: reg.Host, opts: []oci.Option{oci.WithTransport(reg.Transport())},
				push: func(t *testing.T, repoTag string, img v1.Image) { reg.Push(t, repoTag, img) }}
		},
		"docker-registry": func(t *testing.T) target {
			host := ocitest.StartDistribution(t)
			return target{host: host, opts: []oci.Option{oci.WithPlainHTTPInsecure(host)}, fallback: true,
				push: func(t *testing.T, repoTag string, img v1.Image) { ocitest.PushTo(t, host+"/"+repoTag, img) }}
		},
	}
	for tname, start := range targets {
		t.Run(tname, func(t *testing.T) {
			tg := start(t)
			r, err := oci.NewResolver(tg.opts...)
			if err != nil {
				t.Fatal(err)
			}
			img, err := random.Image(512, 1)
			if err != nil {
				t.Fatal(err)
			}
			tg.push(t, "team/app:v1", img)
			got, err := r.Image(t.Context(), tg.host+"/team/app:v1")
			if err != nil {
				t.Fatal(err)
			}
			if refs, err := r.Referrers(t.Context(), got.Ref, 0); err != nil || len(refs) != 0 {
				t.Fatalf("before attaching: %v, %v", refs, err)
			}
			created := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
			bundles := map[string][]byte{}
			for i, pt := range []string{"https://slsa.dev/provenance/v1", "https://cyclonedx.org/bom"} {
				b := []byte(fmt.Sprintf(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","n":%d}`, i))
				h, err := r.Attach(t.Context(), got.Ref, b, pt, created.Add(time.Duration(i)*time.Hour))
				if err != nil {
					t.Fatalf("attach: %v", err)
				}
				bundles[h.String()] = b
			}
			refs, err := r.Referrers(t.Context(), got.Ref, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(refs) != 2 || refs[0].PredicateType != "https://cyclonedx.org/bom" {
				t.Fatalf("referrers %+v, want two, newest first", refs)
			}
			for _, ref := range refs {
				b, err := r.FetchBundle(t.Context(), got.Ref, ref)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(b, bundles[ref.Digest.String()]) {
					t.Errorf("bundle %s: %s", ref.Digest, b)
				}
			}
			// The bound on referrers is an error, not a silent cut.
			if _, err := r.Referrers(t.Context(), got.Ref, 1); !errors.Is(err, oci.ErrReferrer) {
				t.Errorf("over the limit: %v, want ErrReferrer", err)
			}
			// A referrer fetched as if about another image is refused.
			other := got.Ref.Context().Digest("sha256:" + fmt.Sprintf("%064x", 1))
			if _, err := r.FetchBundle(t.Context(), other, refs[0]); !errors.Is(err, oci.ErrReferrer) {
				t.Errorf("referrer of another subject: %v, want ErrReferrer", err)
			}
			if tg.fallback {
				// The referrers tag of the OCI 1.1 distribution spec holds them.
				req, _ := http.NewRequest(http.MethodHead, "http://"+tg.host+"/v2/team/app/manifests/sha256-"+got.Digest.Hex, nil)
				req.Header.Set("Accept", "application/vnd.oci.image.index.v1+json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Errorf("referrers tag: HTTP %d", resp.StatusCode)
				}
			}
		})
	}
}
