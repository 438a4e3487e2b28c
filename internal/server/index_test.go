package server

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/oci"
	"github.com/hallmark-dev/hallmark/oci/ocitest"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/vuln"
)

// twoPlatformIndex pushes an index of a linux/amd64 and a linux/arm64
// image to reg as payments/web:multi and returns the digests of the index
// and of its amd64 and arm64 manifests, and a CA file trusting reg.
func twoPlatformIndex(t *testing.T, reg *ocitest.Registry) (index, amd64, arm64, ca string) {
	t.Helper()
	base := ocitest.Image(t, v1.Config{}, ocitest.Layer{Files: map[string][]byte{"app": []byte("the app")}})
	a, b := ocitest.WithPlatform(t, base, "linux/amd64"), ocitest.WithPlatform(t, base, "linux/arm64")
	idx := ocitest.Index(t, a, b)
	ref, err := name.NewTag(reg.Host + "/payments/web:multi")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(ref, idx, remote.WithContext(t.Context()), remote.WithTransport(reg.Transport())); err != nil {
		t.Fatal(err)
	}
	h := func(f func() (v1.Hash, error)) string {
		d, err := f()
		if err != nil {
			t.Fatal(err)
		}
		return d.String()
	}
	ca = filepath.Join(t.TempDir(), "registry-ca.pem")
	if err := os.WriteFile(ca, reg.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	return h(idx.Digest), h(a.Digest), h(b.Digest), ca
}

// TestAdmissionIndexPlatformCoverage: with admission.resolve on, the
// admission webhook decides about a multi-platform index as `hallmark
// gate` does. Per-platform scans count for the index only when they cover
// every platform it lists, read from the index in its registry; one left
// uncovered is named in the deny. A registry that cannot be read denies.
func TestAdmissionIndexPlatformCoverage(t *testing.T) {
	reg := ocitest.NewRegistry(t)
	index, amd64, arm64, ca := twoPlatformIndex(t, reg)
	w := newWorld(t)
	cfg := testConfig(t, fmt.Sprintf("  resolve: {enabled: true, timeout: 2s, caFile: %s}\n", ca))
	st := openSQLite(t)
	_, ts := start(t, w, cfg, st)
	upload := func(b []byte) {
		t.Helper()
		if s := call(t, ts, "POST", "/v1/bundles", uploaderToken, b, nil); s != 201 {
			t.Fatalf("upload: HTTP %d", s)
		}
	}
	validate := func(image string) (bool, string) {
		t.Helper()
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
	pinned := reg.Host + "/payments/web@" + index

	upload(approval(t, w.approver, index, "prod", ""))
	upload(criticalVulnLow(t, w, amd64, "CVE-2024-0001"))
	ok, msg := validate(pinned)
	if ok || !strings.Contains(msg, "[index.platforms]") || !strings.Contains(msg, "linux/arm64 ("+arm64+")") || strings.Contains(msg, "linux/amd64 (") {
		t.Fatalf("index with a scan of amd64 only: allowed %v, %q; want a deny naming linux/arm64 only", ok, msg)
	}

	upload(criticalVulnLow(t, w, arm64, "CVE-2024-0001"))
	if ok, msg := validate(pinned); !ok {
		t.Fatalf("index with a scan of each platform denied: %s", msg)
	}
	// The tag resolves to the index, which is then decided the same way.
	if ok, msg := validate(reg.Host + "/payments/web:multi"); !ok {
		t.Fatalf("tag of the index denied: %s", msg)
	}
	reg.Close()
	other := reg.Host + "/payments/web@sha256:" + strings.Repeat("ab", 32)
	ok, msg = validate(other)
	t.Logf("registry down: %s", msg)
	if ok || !strings.Contains(msg, "registry unreachable") || !strings.Contains(msg, "index") {
		t.Fatalf("registry down: allowed %v, %q; want a deny saying the registry is unreachable", ok, msg)
	}
}

// TestAdmissionIndexRegistryEvidence: with admission.registryEvidence, a
// scan attached in the registry to a platform manifest of an index counts
// for that platform, as a stored one does.
func TestAdmissionIndexRegistryEvidence(t *testing.T) {
	reg := ocitest.NewRegistry(t)
	index, amd64, arm64, ca := twoPlatformIndex(t, reg)
	w := newWorld(t)
	r, err := oci.NewResolver(oci.WithTransport(reg.Transport()))
	if err != nil {
		t.Fatal(err)
	}
	attach := func(dg string, bundle []byte, predicateType string) {
		t.Helper()
		img, err := name.NewDigest(reg.Host + "/payments/web@" + dg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Attach(t.Context(), img, bundle, predicateType, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	attach(index, approval(t, w.approver, index, "prod", ""), gate.ApprovalPredicateType)
	attach(amd64, criticalVulnLow(t, w, amd64, "CVE-2024-0001"), vuln.PredicateType)
	cfg := testConfig(t, fmt.Sprintf("  resolve: {caFile: %s}\n  registryEvidence: {enabled: true, timeout: 2s}\n", ca))
	_, ts := start(t, w, cfg, openSQLite(t)) // an empty store: the registry holds the evidence
	validate := func() (bool, string) {
		t.Helper()
		var val struct {
			Response struct {
				Allowed bool `json:"allowed"`
				Status  struct{ Message string }
			} `json:"response"`
		}
		if s := call(t, ts, "POST", "/admission/validate", "", tagReview(reg.Host+"/payments/web@"+index), &val); s != 200 {
			t.Fatalf("validate: HTTP %d", s)
		}
		return val.Response.Allowed, val.Response.Status.Message
	}
	if ok, msg := validate(); ok || !strings.Contains(msg, "linux/arm64 ("+arm64+")") {
		t.Fatalf("amd64 scan attached, arm64 not: allowed %v, %q; want a deny naming linux/arm64", ok, msg)
	}
	attach(arm64, criticalVulnLow(t, w, arm64, "CVE-2024-0001"), vuln.PredicateType)
	if ok, msg := validate(); !ok {
		t.Fatalf("a scan attached to each platform manifest: denied: %s", msg)
	}
}

// New refuses a gate that does not read the registry the configuration
// says the server reads: it would admit an index on evidence about the
// index alone.
func TestNewRefusesGateWithoutRegistryOptions(t *testing.T) {
	w := newWorld(t)
	cfg := testConfig(t, "  resolve: {enabled: true}\n")
	pols, err := policy.LoadSpecs(t.Context(), cfg.Policies)
	if err != nil {
		t.Fatal(err)
	}
	st := openSQLite(t)
	g, err := gate.New(st, w.trust, pols, w.gateKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(cfg, st, w.trust, g); err == nil || !strings.Contains(err.Error(), "GateOptions") {
		t.Fatalf("New with a gate built without GateOptions: %v", err)
	}
}
