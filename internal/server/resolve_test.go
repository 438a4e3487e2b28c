package server

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/oci"
	"github.com/hallmark-dev/hallmark/oci/ocitest"
	"github.com/hallmark-dev/hallmark/policy"
)

// tagReview is an AdmissionReview for a Pod in payments (prod) whose
// container names image by tag.
func tagReview(image string) []byte {
	return fmt.Appendf(nil, `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"c0ffee00-0000-4000-8000-000000000001",`+
		`"kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"name":"web","namespace":"payments",`+
		`"operation":"CREATE","userInfo":{"username":"alice@example.com"},"object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"payments"},`+
		`"spec":{"containers":[{"name":"web","image":%q}]}}}}`, image)
}

// TestAdmissionResolvesTags runs a configured server against a registry
// over TLS (trusted through admission.resolve.caFile): a tag-only image
// whose digest is approved is pinned by the mutating endpoint and admitted
// by the validating one; the gate records the resolved digest.
func TestAdmissionResolvesTags(t *testing.T) {
	reg := ocitest.NewRegistry(t)
	digest := reg.PushImage(t, "payments/web:v1")
	ca := filepath.Join(t.TempDir(), "registry-ca.pem")
	if err := os.WriteFile(ca, reg.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	w := newWorld(t)
	cfg := testConfig(t, fmt.Sprintf("  resolve: {enabled: true, timeout: 1s, caFile: %s}\n", ca))
	st := openSQLite(t)
	_, ts := start(t, w, cfg, st)
	if s := call(t, ts, "POST", "/v1/bundles", uploaderToken, approval(t, w.approver, digest, "prod", ""), nil); s != 201 {
		t.Fatalf("upload: %d", s)
	}
	image := reg.Host + "/payments/web:v1"

	var mut struct {
		Response struct {
			Allowed   bool   `json:"allowed"`
			Patch     []byte `json:"patch"`
			PatchType string `json:"patchType"`
			Status    struct{ Message string }
		} `json:"response"`
	}
	if s := call(t, ts, "POST", "/admission/mutate", "", tagReview(image), &mut); s != 200 || !mut.Response.Allowed || mut.Response.PatchType != "JSONPatch" {
		t.Fatalf("mutate: %d %+v", s, mut.Response)
	}
	want := fmt.Sprintf(`[{"op":"replace","path":"/spec/containers/0/image","value":%q}]`, image+"@"+digest)
	if string(mut.Response.Patch) != want {
		t.Errorf("patch %s, want %s", mut.Response.Patch, want)
	}

	var val struct {
		Response struct {
			Allowed bool `json:"allowed"`
			Status  struct{ Message string }
		} `json:"response"`
	}
	if s := call(t, ts, "POST", "/admission/validate", "", tagReview(image), &val); s != 200 || !val.Response.Allowed {
		t.Fatalf("validate the tag-only pod: %d %s", s, val.Response.Status.Message)
	}
	if s := call(t, ts, "POST", "/admission/validate", "", tagReview(reg.Host+"/payments/web:v2"), &val); s != 200 || val.Response.Allowed ||
		!strings.Contains(val.Response.Status.Message, "payments/web:v2") || !strings.Contains(val.Response.Status.Message, "manifest not found") {
		t.Fatalf("validate a missing tag: %d %v %s", s, val.Response.Allowed, val.Response.Status.Message)
	}

	ds, _, err := gate.Deployments(t.Context(), st, w.trust, gate.DeploymentQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].Artifact.Digest.String() != digest || !ds[0].Allowed || ds[0].Source != "admission" {
		var got []string
		for _, d := range ds {
			got = append(got, fmt.Sprintf("%s %v %s", d.Artifact.Digest, d.Allowed, d.Source))
		}
		t.Errorf("recorded decisions %v, want one allow of %s (the validating review used the cached allow)", got, digest)
	}

	req, _ := http.NewRequestWithContext(t.Context(), "GET", ts.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+readerToken)
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, line := range []string{
		`hallmark_admission_mutations_total{result="allowed"} 1`,
		`hallmark_admission_pinned_images_total 1`,
		`hallmark_admission_reviews_total{cached="true",result="allowed"} 1`,
		`hallmark_admission_reviews_total{cached="false",result="unresolved"} 1`,
	} {
		if !strings.Contains(string(body), line+"\n") {
			t.Errorf("metrics lack %q", line)
		}
	}
}

func TestResolveConfigErrors(t *testing.T) {
	w := newWorld(t)
	for name, tc := range map[string]struct{ yml, want string }{
		"missing CA file":     {"  resolve: {enabled: true, caFile: /nonexistent/ca.pem}\n", "caFile"},
		"CA file without PEM": {"  resolve: {enabled: true, caFile: testdata/policy.rego}\n", "no PEM certificate"},
		"bad insecure host":   {"  resolve: {enabled: true, insecureRegistries: [\"http://r.local\"]}\n", "not a registry host"},
		"bad docker config":   {"  resolve: {enabled: true, dockerConfig: testdata/policy.rego}\n", "Docker config"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(t, tc.yml)
			pols, err := policy.LoadSpecs(t.Context(), cfg.Policies)
			if err != nil {
				t.Fatal(err)
			}
			st := openSQLite(t)
			g, err := gate.New(st, w.trust, pols, w.gateKey)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := New(cfg, st, w.trust, g); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
}

// TestAdmissionReadsRegistryEvidence: with admission.registryEvidence the
// bundles attached to an image in its registry count (after verification);
// an image without them is denied, and so is any image once the registry
// cannot be reached.
func TestAdmissionReadsRegistryEvidence(t *testing.T) {
	reg := ocitest.NewRegistry(t)
	approved := reg.PushImage(t, "payments/web:v1")
	bare := reg.PushImage(t, "payments/web:v2")
	ca := filepath.Join(t.TempDir(), "registry-ca.pem")
	if err := os.WriteFile(ca, reg.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	w := newWorld(t)
	r, err := oci.NewResolver(oci.WithTransport(reg.Transport()))
	if err != nil {
		t.Fatal(err)
	}
	img, err := name.NewDigest(reg.Host + "/payments/web@" + approved)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Attach(t.Context(), img, approval(t, w.approver, approved, "prod", ""), gate.ApprovalPredicateType, time.Now()); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, fmt.Sprintf("  resolve: {caFile: %s}\n  registryEvidence: {enabled: true, timeout: 2s}\n", ca))
	_, ts := start(t, w, cfg, openSQLite(t)) // an empty store: the registry holds the evidence
	validate := func(image string) (bool, string) {
		var val struct {
			Response struct {
				Allowed bool `json:"allowed"`
				Status  struct{ Message string }
			} `json:"response"`
		}
		if s := call(t, ts, "POST", "/admission/validate", "", tagReview(image), &val); s != 200 {
			t.Fatalf("validate %s: HTTP %d", image, s)
		}
		return val.Response.Allowed, val.Response.Status.Message
	}
	if ok, msg := validate(reg.Host + "/payments/web@" + approved); !ok {
		t.Fatalf("image with an attached approval denied: %s", msg)
	}
	if ok, _ := validate(reg.Host + "/payments/web@" + bare); ok {
		t.Fatal("image without evidence admitted")
	}
	reg.Close()
	if ok, msg := validate(reg.Host + "/payments/web@" + bare); ok || !strings.Contains(msg, "unreachable") {
		t.Fatalf("registry down: allowed %v, %s", ok, msg)
	}
}
