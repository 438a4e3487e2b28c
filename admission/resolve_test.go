package admission_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hallmark-dev/hallmark/admission"
	"github.com/hallmark-dev/hallmark/oci"
	"github.com/hallmark-dev/hallmark/oci/ocitest"
)

// mutateOut is the part of a mutating answer the tests read.
type mutateOut struct {
	Response struct {
		UID       string   `json:"uid"`
		Allowed   bool     `json:"allowed"`
		Patch     []byte   `json:"patch"` // base64 in JSON
		PatchType *string  `json:"patchType"`
		Warnings  []string `json:"warnings"`
		Status    *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"status"`
	} `json:"response"`
}

// tagWorld is a registry holding the tags of the *-tags.json fixtures and
// a resolver for it.
type tagWorld struct {
	reg                   *ocitest.Registry
	resolver              *oci.Resolver
	api, debug, fetch, up string // digests of the tags
}

func newTagWorld(t *testing.T, wrap func(http.Handler) http.Handler, opts ...oci.Option) *tagWorld {
	t.Helper()
	var wraps []func(http.Handler) http.Handler
	if wrap != nil {
		wraps = append(wraps, wrap)
	}
	reg := ocitest.NewRegistry(t, wraps...)
	w := &tagWorld{reg: reg,
		api:   reg.PushImage(t, "payments/api:v2"),
		debug: reg.PushIndex(t, "tools/debug:latest"), // multi-platform: the index digest counts
		fetch: reg.PushImage(t, "reports/fetch:v1"),
		up:    reg.PushImage(t, "reports/upload:v3"),
	}
	r, err := oci.NewResolver(append([]oci.Option{oci.WithTransport(reg.Transport())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	w.resolver = r
	return w
}

// fixture returns a *-tags.json fixture naming the world's registry.
func (w *tagWorld) fixture(t *testing.T, name string) []byte {
	return bytes.ReplaceAll(fixture(t, name), []byte("{{REGISTRY}}"), []byte(w.reg.Host))
}

func send(t *testing.T, h http.Handler, path string, body []byte) (int, mutateOut, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodPost, path, bytes.NewReader(body)))
	var out mutateOut
	if rec.Code == http.StatusOK {
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("200 answer is not JSON: %v\n%s", err, rec.Body)
		}
	}
	return rec.Code, out, rec.Body.String()
}

// applyPatch applies RFC 6902 "replace" operations to a JSON document, as
// the API server does with a webhook's patch: the target must exist.
func applyPatch(t *testing.T, doc, patch []byte) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatal(err)
	}
	var ops []struct {
		Op    string          `json:"op"`
		Path  string          `json:"path"`
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(patch, &ops); err != nil {
		t.Fatalf("patch is not a JSON array of operations: %v\n%s", err, patch)
	}
	for _, op := range ops {
		if op.Op != "replace" {
			t.Fatalf("patch op %q, want replace", op.Op)
		}
		var val any
		if err := json.Unmarshal(op.Value, &val); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(op.Path, "/") {
			t.Fatalf("path %q is not a JSON pointer", op.Path)
		}
		toks := strings.Split(op.Path[1:], "/")
		for i := range toks {
			toks[i] = strings.ReplaceAll(strings.ReplaceAll(toks[i], "~1", "/"), "~0", "~")
		}
		cur := v
		for i, tok := range toks {
			last := i == len(toks)-1
			switch c := cur.(type) {
			case map[string]any:
				if _, ok := c[tok]; !ok {
					t.Fatalf("path %q: no member %q", op.Path, tok)
				}
				if last {
					c[tok] = val
				}
				cur = c[tok]
			case []any:
				n, err := strconv.Atoi(tok)
				if err != nil || n < 0 || n >= len(c) || (tok != "0" && strings.HasPrefix(tok, "0")) {
					t.Fatalf("path %q: bad index %q", op.Path, tok)
				}
				if last {
					c[n] = val
				}
				cur = c[n]
			default:
				t.Fatalf("path %q: %q indexes a scalar", op.Path, tok)
			}
		}
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// object returns the request.object and kind of a review body.
func object(t *testing.T, body []byte) (string, []byte) {
	t.Helper()
	var r struct {
		Request struct {
			Kind   struct{ Kind string } `json:"kind"`
			Object json.RawMessage       `json:"object"`
		} `json:"request"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	return r.Request.Kind.Kind, r.Request.Object
}

// withObject replaces request.object of a review body.
func withObject(t *testing.T, body, obj []byte) []byte {
	t.Helper()
	var r map[string]any
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	var o any
	if err := json.Unmarshal(obj, &o); err != nil {
		t.Fatal(err)
	}
	r["request"].(map[string]any)["object"] = o
	out, _ := json.Marshal(r)
	return out
}

func TestResolvedTagAllowedAndPinned(t *testing.T) {
	tw := newTagWorld(t, nil)
	d := &allowList{allowed: map[string]bool{digestA: true, tw.api: true, tw.debug: true}, policy: "p1"}
	var outcomes []admission.Outcome
	w, err := admission.New(d, envs, admission.WithResolver(tw.resolver), admission.WithCache(admission.NewCache(time.Minute, 100, nil)),
		admission.WithObserver(func(o admission.Outcome, _ time.Duration) { outcomes = append(outcomes, o) }))
	if err != nil {
		t.Fatal(err)
	}
	body := tw.fixture(t, "pod-tags.json")

	// Validating: the tags resolve, the gate allows their digests.
	status, out, raw := send(t, w, "/admission/validate", body)
	if status != 200 || !out.Response.Allowed || out.Response.Patch != nil {
		t.Fatalf("validate: %d %s", status, raw)
	}
	calls := d.requests()
	want := []string{
		digestA + " registry.example.com/payments/api@" + digestA,
		tw.api + " " + tw.reg.Host + "/payments/api:v2",
		tw.debug + " " + tw.reg.Host + "/tools/debug:latest",
	}
	if diff := cmp.Diff(sorted(want), sorted(calls)); diff != "" {
		t.Errorf("gate asked about (-want +got):\n%s", diff)
	}

	// Mutating: a patch pinning each tag-only image, nothing else.
	status, out, raw = send(t, w.Mutator(), "/admission/mutate", body)
	if status != 200 || !out.Response.Allowed || out.Response.PatchType == nil || *out.Response.PatchType != "JSONPatch" {
		t.Fatalf("mutate: %d %s", status, raw)
	}
	if out.Response.UID != "5f0c9a1e-4b7d-4e2a-9c3f-1a2b3c4d5e6f" {
		t.Errorf("mutate answered uid %q", out.Response.UID)
	}
	kind, obj := object(t, body)
	pinned, err := admission.Images(kind, applyPatch(t, obj, out.Response.Patch))
	if err != nil {
		t.Fatal(err)
	}
	h := tw.reg.Host
	wantRefs := []string{
		h + "/payments/api:v2@" + tw.api,
		"registry.example.com/payments/api@" + digestA,
		h + "/payments/api:v2@" + tw.api,
		h + "/tools/debug:latest@" + tw.debug,
	}
	if diff := cmp.Diff(wantRefs, refs(pinned)); diff != "" {
		t.Errorf("images after the patch (-want +got):\n%s", diff)
	}
	if n := len(d.requests()); n != 3 {
		t.Errorf("mutate asked the gate again: %d calls, want 3 (allows are cached per digest)", n)
	}

	// The pinned object passes validation from the cache, without a
	// registry request.
	heads := tw.reg.Manifests(http.MethodHead)
	status, out, raw = send(t, w, "/admission/validate", withObject(t, body, applyPatch(t, obj, out.Response.Patch)))
	if status != 200 || !out.Response.Allowed {
		t.Fatalf("validate the pinned object: %d %s", status, raw)
	}
	if tw.reg.Manifests(http.MethodHead) != heads {
		t.Error("validating a pinned object asked the registry")
	}
	if len(outcomes) != 3 || !outcomes[1].Mutating || outcomes[1].Pinned != 3 || !outcomes[2].Cached {
		t.Errorf("outcomes %+v", outcomes)
	}
}

func TestResolvedTagDenied(t *testing.T) {
	tw := newTagWorld(t, nil)
	d := &allowList{allowed: map[string]bool{digestA: true, tw.api: true}, policy: "p1"} // no approval for tools/debug
	w, err := admission.New(d, envs, admission.WithResolver(tw.resolver))
	if err != nil {
		t.Fatal(err)
	}
	body := tw.fixture(t, "pod-tags.json")
	for _, path := range []string{"/admission/validate", "/admission/mutate"} {
		t.Run(path, func(t *testing.T) {
			var h http.Handler = w
			if path == "/admission/mutate" {
				h = w.Mutator()
			}
			status, out, raw := send(t, h, path, body)
			if status != 200 || out.Response.Allowed || out.Response.Status == nil || out.Response.Status.Code != 403 {
				t.Fatalf("%d %s", status, raw)
			}
			if out.Response.Patch != nil || out.Response.PatchType != nil {
				t.Errorf("a denial carries a patch: %s", raw)
			}
			msg := out.Response.Status.Message
			for _, s := range []string{tw.reg.Host + "/tools/debug:latest@" + tw.debug, `ephemeralContainers "debugger"`, "not allowed in prod", "[approvals.missing]"} {
				if !strings.Contains(msg, s) {
					t.Errorf("message %q does not mention %q", msg, s)
				}
			}
			if strings.Contains(msg, "payments/api") {
				t.Errorf("message %q blames an allowed image", msg)
			}
		})
	}
}

func TestUnresolvableTagDenied(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, tw *tagWorld) []byte
		stall   bool
		opts    []oci.Option
		budget  time.Duration
		wantMsg []string
		reason  string
	}{
		{name: "tag does not exist", setup: func(t *testing.T, tw *tagWorld) []byte {
			return bytes.Replace(tw.fixture(t, "pod-tags.json"), []byte("tools/debug:latest"), []byte("tools/debug:nope"), 1)
		}, wantMsg: []string{"/tools/debug:nope", `ephemeralContainers "debugger"`, "manifest not found", "fails closed"}, reason: "unresolved"},
		{name: "registry down", setup: func(t *testing.T, tw *tagWorld) []byte {
			b := tw.fixture(t, "pod-tags.json")
			tw.reg.Close()
			return b
		}, wantMsg: []string{"/payments/api:v2", `containers "api"`, "registry unreachable"}, reason: "unresolved"},
		{name: "registry slower than the resolver", stall: true, opts: []oci.Option{oci.WithTimeout(200 * time.Millisecond)}, budget: 2 * time.Second,
			wantMsg: []string{"/payments/api:v2", "timed out after 200ms"}, reason: "unresolved"},
		{name: "registry slower than the budget", stall: true, opts: []oci.Option{oci.WithTimeout(time.Second)}, budget: 300 * time.Millisecond,
			wantMsg: []string{"no decision within 300ms", "still resolving ", "/payments/api:v2", "/tools/debug:latest"}, reason: "timeout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var wrap func(http.Handler) http.Handler
			if tc.stall {
				wrap = stall
			}
			tw := newTagWorld(t, wrap, tc.opts...)
			d := &allowList{allowed: map[string]bool{digestA: true, tw.api: true, tw.debug: true}}
			var outcomes []admission.Outcome
			opts := []admission.Option{admission.WithResolver(tw.resolver),
				admission.WithObserver(func(o admission.Outcome, _ time.Duration) { outcomes = append(outcomes, o) })}
			if tc.budget > 0 {
				opts = append(opts, admission.WithBudget(tc.budget))
			}
			w, err := admission.New(d, envs, opts...)
			if err != nil {
				t.Fatal(err)
			}
			body := tw.fixture(t, "pod-tags.json")
			if tc.setup != nil {
				body = tc.setup(t, tw)
			}
			for _, h := range []http.Handler{w, w.Mutator()} {
				start := time.Now()
				status, out, raw := send(t, h, "/admission/x", body)
				if took := time.Since(start); took > admission.DefaultBudget+time.Second {
					t.Errorf("answered after %v", took)
				}
				if status != 200 || out.Response.Allowed || out.Response.Patch != nil || out.Response.Status == nil {
					t.Fatalf("%d %s", status, raw)
				}
				t.Log(out.Response.Status.Message)
				for _, s := range tc.wantMsg {
					if !strings.Contains(out.Response.Status.Message, s) {
						t.Errorf("message %q does not mention %q", out.Response.Status.Message, s)
					}
				}
			}
			if len(d.calls) != 0 && tc.reason == "unresolved" {
				t.Errorf("the gate was asked although a tag did not resolve: %v", d.digests())
			}
			if len(outcomes) != 2 || outcomes[0].Reason != tc.reason || outcomes[1].Reason != tc.reason {
				t.Errorf("outcomes %+v, want reason %q", outcomes, tc.reason)
			}
		})
	}
}

// stall holds manifest requests until the client gives up.
func stall(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/manifests/") {
			<-r.Context().Done()
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (d *allowList) requests() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for _, c := range d.calls {
		out = append(out, c.Digest.String()+" "+c.Image)
	}
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func refs(imgs []admission.Image) []string {
	var out []string
	for _, img := range imgs {
		out = append(out, img.Ref)
	}
	return out
}

func TestNoResolverDeniesTags(t *testing.T) {
	d := &allowList{allowed: map[string]bool{digestA: true}}
	w, err := admission.New(d, envs)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []http.Handler{w, w.Mutator()} {
		status, out, raw := send(t, h, "/admission/x", fixture(t, "pod-tag.json"))
		if status != 200 || out.Response.Allowed || out.Response.Patch != nil || !strings.Contains(out.Response.Status.Message, `"nginx:1.27"`) ||
			!strings.Contains(out.Response.Status.Message, "not referenced by digest") {
			t.Fatalf("tag-only image without a resolver: %d %s", status, raw)
		}
	}
	if len(d.calls) != 0 {
		t.Errorf("the gate was asked: %v", d.digests())
	}
}

func TestMutatePinnedObjectIsLeftAlone(t *testing.T) {
	tw := newTagWorld(t, nil)
	d := &allowList{allowed: map[string]bool{}} // the validating webhook decides
	w, err := admission.New(d, envs, admission.WithResolver(tw.resolver))
	if err != nil {
		t.Fatal(err)
	}
	status, out, raw := send(t, w.Mutator(), "/admission/mutate", fixture(t, "pod.json"))
	if status != 200 || !out.Response.Allowed || out.Response.Patch != nil || out.Response.PatchType != nil {
		t.Fatalf("mutate of a pinned pod: %d %s", status, raw)
	}
	if len(d.calls) != 0 || tw.reg.Manifests(http.MethodHead) != 0 {
		t.Errorf("mutate asked the gate (%d) or the registry (%d) about digests", len(d.calls), tw.reg.Manifests(http.MethodHead))
	}
}

func TestPatchPathsOfWorkloads(t *testing.T) {
	tw := newTagWorld(t, nil)
	d := &allowList{allowed: map[string]bool{digestA: true, tw.api: true, tw.debug: true, tw.fetch: true, tw.up: true}}
	w, err := admission.New(d, envs, admission.WithResolver(tw.resolver))
	if err != nil {
		t.Fatal(err)
	}
	h := tw.reg.Host
	tests := []struct {
		fixture string
		ops     []string // path value
		images  []string // after the patch
	}{
		{"deployment-tags.json", []string{
			"/spec/template/spec/containers/0/image " + h + "/payments/api:v2@" + tw.api,
			"/spec/template/spec/containers/1/image " + h + "/tools/debug:latest@" + tw.debug,
			"/spec/template/spec/initContainers/1/image " + h + "/payments/api:v2@" + tw.api,
			"/spec/template/spec/ephemeralContainers/0/image " + h + "/tools/debug:latest@" + tw.debug,
		}, []string{
			h + "/payments/api:v2@" + tw.api, h + "/tools/debug:latest@" + tw.debug,
			"registry.example.com/payments/api@" + digestA, h + "/payments/api:v2@" + tw.api,
			h + "/tools/debug:latest@" + tw.debug,
		}},
		{"cronjob-tags.json", []string{
			"/spec/jobTemplate/spec/template/spec/containers/1/image " + h + "/reports/upload:v3@" + tw.up,
			"/spec/jobTemplate/spec/template/spec/initContainers/0/image " + h + "/reports/fetch:v1@" + tw.fetch,
			"/spec/jobTemplate/spec/template/spec/ephemeralContainers/0/image " + h + "/tools/debug:latest@" + tw.debug,
		}, []string{
			"registry.example.com/payments/api@" + digestA, h + "/reports/upload:v3@" + tw.up,
			h + "/reports/fetch:v1@" + tw.fetch, h + "/tools/debug:latest@" + tw.debug,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.fixture, func(t *testing.T) {
			body := tw.fixture(t, tc.fixture)
			status, out, raw := send(t, w.Mutator(), "/admission/mutate", body)
			if status != 200 || !out.Response.Allowed || out.Response.PatchType == nil || *out.Response.PatchType != "JSONPatch" {
				t.Fatalf("%d %s", status, raw)
			}
			var ops []struct{ Op, Path, Value string }
			if err := json.Unmarshal(out.Response.Patch, &ops); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, op := range ops {
				if op.Op != "replace" {
					t.Errorf("op %q", op.Op)
				}
				got = append(got, op.Path+" "+op.Value)
			}
			if diff := cmp.Diff(tc.ops, got); diff != "" {
				t.Errorf("patch (-want +got):\n%s", diff)
			}
			kind, obj := object(t, body)
			imgs, err := admission.Images(kind, applyPatch(t, obj, out.Response.Patch))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.images, refs(imgs)); diff != "" {
				t.Errorf("images after the patch (-want +got):\n%s", diff)
			}
			// The patched object passes the validating webhook as is.
			status, vout, raw := send(t, w, "/admission/validate", withObject(t, body, applyPatch(t, obj, out.Response.Patch)))
			if status != 200 || !vout.Response.Allowed {
				t.Errorf("validating the patched object: %d %s", status, raw)
			}
		})
	}
}

// A tag that moves is followed once the resolver's cache entry expires;
// the allow cache never remembers the tag.
func TestMovedTagIsResolvedAgainAfterTheTTL(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	tw := newTagWorld(t, nil, oci.WithCache(30*time.Second, 100), oci.WithClock(func() time.Time { return now }))
	d := &allowList{allowed: map[string]bool{digestA: true, tw.api: true, tw.debug: true}, policy: "p1"}
	w, err := admission.New(d, envs, admission.WithResolver(tw.resolver), admission.WithCache(admission.NewCache(time.Hour, 100, nil)))
	if err != nil {
		t.Fatal(err)
	}
	body := tw.fixture(t, "pod-tags.json")
	pinnedTo := func() (bool, string) {
		t.Helper()
		status, out, raw := send(t, w.Mutator(), "/admission/mutate", body)
		if status != 200 {
			t.Fatalf("%d %s", status, raw)
		}
		if !out.Response.Allowed {
			return false, out.Response.Status.Message
		}
		var ops []struct{ Path, Value string }
		json.Unmarshal(out.Response.Patch, &ops)
		return true, ops[0].Value
	}
	if ok, v := pinnedTo(); !ok || !strings.HasSuffix(v, "@"+tw.api) {
		t.Fatalf("first: %v %s", ok, v)
	}
	moved := tw.reg.PushImage(t, "payments/api:v2") // not approved
	if ok, v := pinnedTo(); !ok || !strings.HasSuffix(v, "@"+tw.api) {
		t.Fatalf("within the resolver's TTL: %v %s, want the cached digest", ok, v)
	}
	now = now.Add(30 * time.Second)
	ok, msg := pinnedTo()
	if ok || !strings.Contains(msg, moved) || !strings.Contains(msg, "[approvals.missing]") {
		t.Fatalf("after the TTL the moved tag must be decided anew and denied: %v %s", ok, msg)
	}
}

// fixedResolver resolves every tag of ok.example to digest A, as a
// registry holding one image under every tag would; other registries fail.
type fixedResolver struct{}

func (fixedResolver) Resolve(_ context.Context, ref string) (string, error) {
	if strings.HasPrefix(ref, "ok.example/") {
		return digestA, nil
	}
	return "", fmt.Errorf("resolve %q: registry unreachable", ref)
}

// FuzzMutate checks, for any review, that a mutating answer that allows
// with a patch yields, once patched, an object whose every image is pinned
// to the one approved digest, and that one allowing without a patch had
// nothing to pin.
func FuzzMutate(f *testing.F) {
	for _, n := range []string{"pod-tags.json", "deployment-tags.json", "cronjob-tags.json", "pod.json", "pod-tag.json", "cronjob.json", "malformed-object.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(bytes.ReplaceAll(b, []byte("{{REGISTRY}}"), []byte("ok.example")))
	}
	d := &allowList{allowed: map[string]bool{digestA: true}}
	w, err := admission.New(d, envs, admission.WithMaxBodyBytes(1<<16), admission.WithResolver(fixedResolver{}))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		status, raw := w.Mutate(t.Context(), body)
		if status != http.StatusOK {
			return
		}
		var out mutateOut
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("200 answer not JSON: %v", err)
		}
		if !out.Response.Allowed {
			if out.Response.Patch != nil {
				t.Fatalf("a denial carries a patch")
			}
			return
		}
		var in struct {
			Request struct {
				Operation string
				Kind      struct{ Kind string }
				Object    json.RawMessage
			}
		}
		if json.Unmarshal(body, &in) != nil || (in.Request.Operation != "CREATE" && in.Request.Operation != "UPDATE") {
			return
		}
		obj := []byte(in.Request.Object)
		if out.Response.Patch != nil {
			if out.Response.PatchType == nil || *out.Response.PatchType != "JSONPatch" {
				t.Fatalf("patch without patchType JSONPatch")
			}
			obj = applyPatch(t, obj, out.Response.Patch)
		}
		imgs, err := admission.Images(in.Request.Kind.Kind, obj)
		if err != nil {
			t.Fatalf("allowed an object whose images do not read: %v", err)
		}
		for _, img := range imgs {
			dg, err := admission.Digest(img.Ref)
			if err != nil {
				t.Fatalf("allowed with image %q not pinned by digest", img.Ref)
			}
			if out.Response.Patch != nil && dg.String() != digestA {
				t.Fatalf("pinned and allowed image %q, which is not the approved digest", img.Ref)
			}
		}
	})
}
