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
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hallmark-dev/hallmark/admission"
)

// Fixture digests (testdata/README.md).
const (
	digestA = "sha256:0c1196ea055ea23e31107bb2a5e4623c136b09309d9d469363ecfe6984b6de37"
	digestB = "sha256:a22f7639e80e8d43eb0104bf8d9914013c66ea04766834566d633ff3726b5ed5"
	digestC = "sha256:87887e5af0b8cc4b42328939418e3a1a41121731dd8cd50b66a1b8ecec1bb0e3"
)

// allowList is a Decider that allows a fixed set of digests, as a gate
// with evidence for exactly those would.
type allowList struct {
	mu      sync.Mutex
	allowed map[string]bool
	policy  string
	calls   []admission.Request
	err     error
}

func (d *allowList) Decide(ctx context.Context, r admission.Request) (admission.Verdict, error) {
	d.mu.Lock()
	d.calls = append(d.calls, r)
	d.mu.Unlock()
	if d.err != nil {
		return admission.Verdict{}, d.err
	}
	if d.allowed[r.Digest.String()] {
		return admission.Verdict{Allowed: true}, nil
	}
	return admission.Verdict{Reasons: []string{"[approvals.missing] no approval for " + r.Digest.String()}}, nil
}

func (d *allowList) PolicyVersion(env string) string { return d.policy + "/" + env }

func (d *allowList) digests() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for _, c := range d.calls {
		out = append(out, c.Digest.String()+"@"+c.Environment)
	}
	return out
}

var envs = admission.Environments{
	Namespaces:      map[string]string{"payments": "prod"},
	Label:           "hallmark.dev/environment",
	NamespaceLabels: map[string]map[string]string{"reports": {"hallmark.dev/environment": "staging"}},
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type reviewOut struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Response   struct {
		UID      string   `json:"uid"`
		Allowed  bool     `json:"allowed"`
		Warnings []string `json:"warnings"`
		Status   *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"status"`
	} `json:"response"`
}

func post(t *testing.T, h http.Handler, body []byte) (int, reviewOut, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/admission/validate", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	h.ServeHTTP(rec, req)
	var out reviewOut
	if rec.Code == http.StatusOK {
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("200 answer is not JSON: %v\n%s", err, rec.Body)
		}
	}
	return rec.Code, out, rec.Body.String()
}

func TestReviewFixtures(t *testing.T) {
	tests := []struct {
		fixture     string
		allowed     []string
		wantStatus  int
		wantUID     string
		wantAllowed bool
		wantInMsg   []string
		wantCalls   []string
	}{
		{fixture: "pod.json", allowed: []string{digestA, digestB}, wantStatus: 200, wantUID: "705ab4f5-6393-11e8-b7cc-42010a800002", wantAllowed: true,
			wantCalls: []string{digestA + "@prod", digestB + "@prod"}},
		{fixture: "pod.json", allowed: []string{digestA}, wantStatus: 200, wantUID: "705ab4f5-6393-11e8-b7cc-42010a800002",
			wantInMsg: []string{"tools/debug@sha256:", `ephemeralContainers "debugger"`, "[approvals.missing]"}, wantCalls: []string{digestA + "@prod", digestB + "@prod"}},
		{fixture: "deployment.json", allowed: []string{digestA, digestB}, wantStatus: 200, wantUID: "0df28fbd-5f5f-11e8-bc74-36e6bb280816", wantAllowed: true,
			wantCalls: []string{digestA + "@prod", digestB + "@prod"}},
		{fixture: "cronjob.json", allowed: []string{digestA, digestB}, wantStatus: 200, wantUID: "b7a1c3e2-1d2f-4c5b-9a8e-7f6d5c4b3a21",
			wantInMsg: []string{digestC, `initContainers "fetch"`, "not allowed in staging"}, wantCalls: []string{digestA + "@staging", digestC + "@staging"}},
		{fixture: "pod-tag.json", allowed: []string{digestA}, wantStatus: 200, wantUID: "3c1e7d40-2b9a-4f0e-8d6c-5a4b3c2d1e0f",
			wantInMsg: []string{`"nginx:1.27"`, "not referenced by digest"}},
		{fixture: "malformed-object.json", allowed: []string{digestA}, wantStatus: 200, wantUID: "9e8d7c6b-5a49-3827-1605-f4e3d2c1b0a9",
			wantInMsg: []string{"malformed"}},
		{fixture: "malformed-truncated.json", wantStatus: 400},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/allow=%d", tc.fixture, len(tc.allowed)), func(t *testing.T) {
			d := &allowList{allowed: map[string]bool{}, policy: "p1"}
			for _, a := range tc.allowed {
				d.allowed[a] = true
			}
			w, err := admission.New(d, envs)
			if err != nil {
				t.Fatal(err)
			}
			status, out, raw := post(t, w, fixture(t, tc.fixture))
			if status != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", status, tc.wantStatus, raw)
			}
			if status != 200 {
				if !strings.Contains(raw, `"error"`) {
					t.Errorf("error answer has no JSON error: %s", raw)
				}
				return
			}
			if out.APIVersion != admission.APIVersion || out.Kind != admission.Kind || out.Response.UID != tc.wantUID {
				t.Errorf("answer %s %s uid %q, want %s %s uid %q", out.APIVersion, out.Kind, out.Response.UID, admission.APIVersion, admission.Kind, tc.wantUID)
			}
			if out.Response.Allowed != tc.wantAllowed {
				t.Fatalf("allowed = %v, want %v: %s", out.Response.Allowed, tc.wantAllowed, raw)
			}
			if !tc.wantAllowed {
				if out.Response.Status == nil || out.Response.Status.Code != 403 {
					t.Fatalf("denial without a 403 status: %s", raw)
				}
				for _, s := range tc.wantInMsg {
					if !strings.Contains(out.Response.Status.Message, s) {
						t.Errorf("message %q does not mention %q", out.Response.Status.Message, s)
					}
				}
			}
			got := d.digests()
			slices.Sort(got)
			if diff := cmp.Diff(tc.wantCalls, got); diff != "" {
				t.Errorf("decider calls (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReviewOversized(t *testing.T) {
	d := &allowList{allowed: map[string]bool{digestA: true, digestB: true}}
	body := fixture(t, "pod.json")
	w, err := admission.New(d, envs, admission.WithMaxBodyBytes(int64(len(body)-1)))
	if err != nil {
		t.Fatal(err)
	}
	status, _, raw := post(t, w, body)
	if status != http.StatusRequestEntityTooLarge || !strings.Contains(raw, "larger than") {
		t.Fatalf("oversized review: %d %s", status, raw)
	}
	if len(d.calls) != 0 {
		t.Errorf("decider was asked about an oversized review")
	}
}

func TestReviewFailsClosed(t *testing.T) {
	tests := []struct {
		name   string
		envs   admission.Environments
		err    error
		mutate func([]byte) []byte
		want   string
	}{
		{name: "decider error", envs: envs, err: fmt.Errorf("store unreachable"), want: "gate failed closed: store unreachable"},
		{name: "unmapped namespace", envs: admission.Environments{}, want: `namespace "payments"`},
		{name: "unknown kind", envs: envs, mutate: func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"kind": {"group": "", "version": "v1", "kind": "Pod"}`), []byte(`"kind": {"group": "", "version": "v1", "kind": "Secret"}`), 1)
		}, want: "unsupported kind"},
		{name: "wrong apiVersion", envs: envs, mutate: func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"apiVersion": "admission.k8s.io/v1"`), []byte(`"apiVersion": "admission.k8s.io/v1beta1"`), 1)
		}, want: "want admission.k8s.io/v1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := &allowList{allowed: map[string]bool{digestA: true, digestB: true}, err: tc.err}
			w, err := admission.New(d, tc.envs)
			if err != nil {
				t.Fatal(err)
			}
			body := fixture(t, "pod.json")
			if tc.mutate != nil {
				body = tc.mutate(body)
			}
			status, out, raw := post(t, w, body)
			if status != 200 || out.Response.Allowed || out.Response.Status == nil || !strings.Contains(out.Response.Status.Message, tc.want) {
				t.Fatalf("want a denial mentioning %q, got %d %s", tc.want, status, raw)
			}
		})
	}
}

// TestReviewMalformedDenied: a review the API server would not send, or
// an image that is not one well-formed reference, is denied as malformed
// without asking the gate. Attacks (issue 20 item 9): a review with no
// operation or "create" in lower case was allowed unchecked, and
// "repo@sha256:B@sha256:A" was decided on A though it is no reference a
// node pulls.
func TestReviewMalformedDenied(t *testing.T) {
	pod := string(fixture(t, "pod.json"))
	image := "registry.example.com/payments/api:v1.4.0@" + digestA
	for _, tc := range []struct{ name, from, to, want string }{
		{"no operation", `"operation": "CREATE",`, ``, `operation ""`},
		{"lower-case operation", `"operation": "CREATE"`, `"operation": "create"`, `operation "create"`},
		{"unknown operation", `"operation": "CREATE"`, `"operation": "PATCH"`, `operation "PATCH"`},
		{"duplicate operation", `"operation": "CREATE"`, `"operation": "CREATE", "operation": "DELETE"`, `duplicate field "request.operation"`},
		{"two digests", image, "registry.example.com/payments/api@" + digestB + "@" + digestA, "malformed image reference"},
		{"upper-case digest", image, "registry.example.com/payments/api@sha256:" + strings.ToUpper(digestA[7:]), "malformed"},
		{"malformed name", image, "registry.example.com/Payments/api@" + digestA, "malformed image reference"},
		{"status subresource", `"operation": "CREATE"`, `"operation": "UPDATE", "subResource": "status"`, `subresource "status"`},
		{"Pod of another API group", `"kind": {"group": "", "version": "v1", "kind": "Pod"}`, `"kind": {"group": "evil.example.com", "version": "v1", "kind": "Pod"}`, `API group "evil.example.com"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := strings.Replace(pod, tc.from, tc.to, 1)
			if body == pod {
				t.Fatalf("pod.json has no %s", tc.from)
			}
			for _, r := range []admission.Resolver{nil, staticResolver(digestA)} {
				d := &allowList{allowed: map[string]bool{digestA: true, digestB: true}}
				opts := []admission.Option{}
				if r != nil {
					opts = append(opts, admission.WithResolver(r))
				}
				var outcomes []admission.Outcome
				opts = append(opts, admission.WithObserver(func(o admission.Outcome, _ time.Duration) { outcomes = append(outcomes, o) }))
				w, err := admission.New(d, envs, opts...)
				if err != nil {
					t.Fatal(err)
				}
				status, out, raw := post(t, w, []byte(body))
				if status != 200 || out.Response.Allowed || out.Response.Status == nil || !strings.Contains(out.Response.Status.Message, tc.want) {
					t.Fatalf("resolver=%v: want a denial mentioning %q, got %d %s", r != nil, tc.want, status, raw)
				}
				if len(d.calls) != 0 {
					t.Errorf("resolver=%v: the gate was asked about a malformed review: %+v", r != nil, d.calls)
				}
				if len(outcomes) != 1 || outcomes[0].Reason == "allowed" {
					t.Errorf("outcomes %+v", outcomes)
				}
			}
		})
	}
}

// TestReviewFieldsMatchExactly: the review is read as the API server
// writes it, field names case-sensitively. Attack: encoding/json let
// "Operation": "DELETE" after the real "operation": "CREATE" win, and the
// review was allowed without checks.
func TestReviewFieldsMatchExactly(t *testing.T) {
	body := bytes.Replace(fixture(t, "pod.json"), []byte(`"operation": "CREATE"`), []byte(`"operation": "CREATE", "Operation": "DELETE"`), 1)
	d := &allowList{allowed: map[string]bool{}}
	w, err := admission.New(d, envs)
	if err != nil {
		t.Fatal(err)
	}
	if _, out, raw := post(t, w, body); out.Response.Allowed || !strings.Contains(raw, "approvals.missing") {
		t.Fatalf("a CREATE with a stray \"Operation\" was not decided: %s", raw)
	}
}

// staticResolver resolves every tag to one digest.
type staticResolver string

func (s staticResolver) Resolve(context.Context, string) (string, error) { return string(s), nil }

// TestReviewEphemeralContainers: an UPDATE of pods/ephemeralcontainers
// (kubectl debug) is decided on every image of the pod, the debug image
// too.
func TestReviewEphemeralContainers(t *testing.T) {
	body := bytes.Replace(fixture(t, "pod.json"), []byte(`"operation": "CREATE"`), []byte(`"operation": "UPDATE", "subResource": "ephemeralcontainers"`), 1)
	d := &allowList{allowed: map[string]bool{digestA: true}}
	w, err := admission.New(d, envs)
	if err != nil {
		t.Fatal(err)
	}
	if _, out, raw := post(t, w, body); out.Response.Allowed || !strings.Contains(raw, `ephemeralContainers \"debugger\"`) {
		t.Fatalf("ephemeral container with an unapproved image: %s", raw)
	}
}

func TestReviewDeleteIsNotChecked(t *testing.T) {
	d := &allowList{}
	w, _ := admission.New(d, envs)
	body := bytes.Replace(fixture(t, "pod-tag.json"), []byte(`"operation": "CREATE"`), []byte(`"operation": "DELETE"`), 1)
	if _, out, raw := post(t, w, body); !out.Response.Allowed {
		t.Fatalf("DELETE denied: %s", raw)
	}
}

// blocker never answers until its context ends.
type blocker struct{}

func (blocker) Decide(ctx context.Context, _ admission.Request) (admission.Verdict, error) {
	<-ctx.Done()
	return admission.Verdict{Allowed: true}, nil // a late allow must not count
}
func (blocker) PolicyVersion(string) string { return "p" }

func TestReviewBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var outcomes []admission.Outcome
		w, err := admission.New(blocker{}, envs, admission.WithBudget(2*time.Second),
			admission.WithObserver(func(o admission.Outcome, _ time.Duration) { outcomes = append(outcomes, o) }))
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		status, out, raw := post(t, w, fixture(t, "pod.json"))
		if status != 200 || out.Response.Allowed || !strings.Contains(out.Response.Status.Message, "no decision within 2s") {
			t.Fatalf("over-budget review: %d %s", status, raw)
		}
		if took := time.Since(start); took != 2*time.Second {
			t.Errorf("answered after %v, want the 2s budget", took)
		}
		if len(outcomes) != 1 || outcomes[0].Reason != "timeout" {
			t.Errorf("outcomes %+v", outcomes)
		}
		idleWorkersExit()
	})
}

// idleWorkersExit waits, in a synctest bubble, for the webhook's idle
// workers to exit: the bubble fails if any goroutine outlives it.
func idleWorkersExit() { time.Sleep(time.Minute) }

// TestReviewMaxEvaluations: beyond the bound on gate evaluations in flight
// a review is denied at once, naming the bound, instead of queueing until
// its budget runs out; once evaluations finish, reviews are decided again.
func TestReviewMaxEvaluations(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, err := admission.New(blocker{}, envs, admission.WithBudget(2*time.Second), admission.WithMaxEvaluations(2))
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan string, 1)
		go func() { // pod.json asks about two digests: both tokens taken
			_, _, raw := post(t, w, fixture(t, "pod.json"))
			done <- raw
		}()
		synctest.Wait()
		start := time.Now()
		status, out, raw := post(t, w, fixture(t, "pod.json"))
		if status != 200 || out.Response.Allowed || !strings.Contains(out.Response.Status.Message, "2 gate evaluations already in flight") {
			t.Fatalf("review beyond the bound: %d %s", status, raw)
		}
		if took := time.Since(start); took != 0 {
			t.Errorf("denied after %v, want at once", took)
		}
		if first := <-done; !strings.Contains(first, "no decision within 2s") {
			t.Fatalf("the review holding the evaluations: %s", first)
		}
		// The tokens are back: the next review is evaluated (and times out
		// against the blocking decider), not refused for the bound.
		_, _, raw = post(t, w, fixture(t, "pod.json"))
		if strings.Contains(raw, "in flight") || !strings.Contains(raw, "no decision within 2s") {
			t.Fatalf("review after the evaluations finished: %s", raw)
		}
		idleWorkersExit()
	})
	if _, err := admission.New(blocker{}, envs, admission.WithMaxEvaluations(-1)); err == nil {
		t.Error("a negative bound was accepted")
	}
}

func TestReviewCachesAllowsOnly(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	d := &allowList{allowed: map[string]bool{digestA: true, digestB: true}, policy: "p1"}
	var cached []bool
	w, err := admission.New(d, envs, admission.WithCache(admission.NewCache(time.Minute, 100, clock)),
		admission.WithObserver(func(o admission.Outcome, _ time.Duration) { cached = append(cached, o.Cached) }))
	if err != nil {
		t.Fatal(err)
	}
	review := func() bool {
		_, out, _ := post(t, w, fixture(t, "pod.json"))
		return out.Response.Allowed
	}
	if !review() || !review() {
		t.Fatal("approved pod denied")
	}
	if n := len(d.calls); n != 2 {
		t.Fatalf("second review asked the decider again: %d calls, want 2", n)
	}
	d.policy = "p2" // a new policy version forgets cached allows
	review()
	if n := len(d.calls); n != 4 {
		t.Fatalf("after a policy change: %d calls, want 4", n)
	}
	now = now.Add(time.Minute) // TTL passed
	review()
	if n := len(d.calls); n != 6 {
		t.Fatalf("after the TTL: %d calls, want 6", n)
	}
	now = now.Add(time.Minute)
	delete(d.allowed, digestB) // denials are not cached
	review()
	review()
	if n := len(d.calls); n != 9 {
		t.Fatalf("denied digest: %d calls, want 9 (A asked once, B twice)", n)
	}
	if diff := cmp.Diff([]bool{false, true, false, false, false, false}, cached); diff != "" {
		t.Errorf("cached outcomes (-want +got):\n%s", diff)
	}
}

func TestCacheBounded(t *testing.T) {
	c := admission.NewCache(time.Hour, 2, func() time.Time { return time.Unix(0, 0) })
	c.Allow("a", "ns", "prod", "p")
	c.Allow("b", "ns", "prod", "p")
	c.Allowed("a", "ns", "prod", "p") // a is now most recently used
	c.Allow("c", "ns", "prod", "p")
	got := []bool{c.Allowed("a", "ns", "prod", "p"), c.Allowed("b", "ns", "prod", "p"), c.Allowed("c", "ns", "prod", "p")}
	if diff := cmp.Diff([]bool{true, false, true}, got); diff != "" || c.Len() != 2 {
		t.Errorf("LRU eviction (-want +got):\n%s (len %d)", diff, c.Len())
	}
}

func TestImagesEveryWorkloadKind(t *testing.T) {
	spec := `{"initContainers":[{"name":"i","image":"x@` + digestA + `"}],"containers":[{"name":"c","image":"y@` + digestB + `"},{"name":"c2","image":"w:v1"}],"ephemeralContainers":[{"name":"e","image":"z@` + digestC + `"}]}`
	tmpl := `{"spec":{"template":{"spec":` + spec + `}}}`
	// Each kind's object and the JSON pointer of its pod spec.
	objects := map[string][2]string{
		"Pod":                   {`{"spec":` + spec + `}`, "/spec"},
		"Deployment":            {tmpl, "/spec/template/spec"},
		"StatefulSet":           {tmpl, "/spec/template/spec"},
		"DaemonSet":             {tmpl, "/spec/template/spec"},
		"ReplicaSet":            {tmpl, "/spec/template/spec"},
		"ReplicationController": {tmpl, "/spec/template/spec"},
		"Job":                   {tmpl, "/spec/template/spec"},
		"CronJob":               {`{"spec":{"jobTemplate":{"spec":{"template":{"spec":` + spec + `}}}}}`, "/spec/jobTemplate/spec/template/spec"},
		"PodTemplate":           {`{"template":{"spec":` + spec + `}}`, "/template/spec"},
	}
	for kind, obj := range objects {
		t.Run(kind, func(t *testing.T) {
			p := obj[1]
			want := []admission.Image{
				{Container: "c", Field: "containers", Index: 0, Path: p + "/containers/0/image", Ref: "y@" + digestB},
				{Container: "c2", Field: "containers", Index: 1, Path: p + "/containers/1/image", Ref: "w:v1"},
				{Container: "i", Field: "initContainers", Index: 0, Path: p + "/initContainers/0/image", Ref: "x@" + digestA},
				{Container: "e", Field: "ephemeralContainers", Index: 0, Path: p + "/ephemeralContainers/0/image", Ref: "z@" + digestC},
			}
			got, err := admission.Images(kind, []byte(obj[0]))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if _, err := admission.Images("Deployment", []byte(`{"spec":{}}`)); err == nil {
		t.Error("Deployment without a template accepted")
	}
}

func TestDigest(t *testing.T) {
	tests := []struct{ ref, want string }{
		{"r.example/a@" + digestA, digestA},
		{"r.example/a:v1@" + digestA, digestA},
		{"localhost:5000/team/app_x:1.0-rc.1@" + digestA, digestA},
		{"[::1]:5000/app@" + digestA, digestA},
		// Not one well-formed reference: denied, never decided on a part.
		{"r.example/a:v1@" + strings.ToUpper(digestA[:7]) + digestA[7:], ""},
		{"r.example/a@" + digestB + "@" + digestA, ""},
		{"r.example/a@" + digestA + "@" + digestB, ""},
		{"r.example/A@" + digestA, ""},
		{"r.example/a:v1:v2@" + digestA, ""},
		{"r.example//a@" + digestA, ""},
		{" r.example/a@" + digestA, ""},
		{"r.example/a@" + digestA + "\n", ""},
		{"r.example/a@sha256:" + strings.ToUpper(digestA[7:]), ""},
		{"nginx:1.27", ""},
		{"nginx@sha256:abc", ""},
		{"nginx@sha512:" + strings.Repeat("a", 128), ""},
		{"@" + digestA, ""},
	}
	for _, tc := range tests {
		got, err := admission.Digest(tc.ref)
		if got.String() != tc.want || (tc.want == "") != (err != nil) {
			t.Errorf("Digest(%q) = %q, %v; want %q", tc.ref, got, err, tc.want)
		}
	}
}

func FuzzReview(f *testing.F) {
	for _, n := range []string{"pod.json", "deployment.json", "cronjob.json", "pod-tag.json", "malformed-object.json", "malformed-truncated.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	d := &allowList{allowed: map[string]bool{digestA: true}}
	w, err := admission.New(d, envs, admission.WithMaxBodyBytes(1<<16))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		status, out := w.Review(t.Context(), body)
		if status != http.StatusOK {
			return
		}
		var r reviewOut
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("200 answer not JSON: %v", err)
		}
		if !r.Response.Allowed {
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
		imgs, err := admission.Images(in.Request.Kind.Kind, in.Request.Object)
		if err != nil {
			t.Fatalf("allowed an object whose images do not read: %v", err)
		}
		for _, img := range imgs {
			if d, err := admission.Digest(img.Ref); err != nil || d.String() != digestA {
				t.Fatalf("allowed image %q, which is not the approved digest", img.Ref)
			}
		}
	})
}

// TestEnvironmentFromPath: a review arriving on an environment's path (the
// API server picked that webhook from the namespace's live labels) is
// decided under that environment, unless the configuration maps the
// namespace by name; the generic path keeps the configured mapping.
func TestEnvironmentFromPath(t *testing.T) {
	renamed := bytes.ReplaceAll(fixture(t, "pod.json"), []byte(`"namespace": "payments"`), []byte(`"namespace": "fresh"`))
	tests := []struct {
		name      string
		env       string // "" for the generic path
		body      []byte
		wantCalls []string
		wantInMsg string
	}{
		{"path beats the static label copy", "dev", fixture(t, "cronjob.json"), []string{digestA + "@dev", digestC + "@dev"}, ""},
		{"explicit namespace mapping beats the path", "dev", fixture(t, "pod.json"), []string{digestA + "@prod", digestB + "@prod"}, ""},
		{"unmapped namespace on an environment's path", "staging", renamed, []string{digestA + "@staging", digestB + "@staging"}, ""},
		{"unmapped namespace on the generic path", "", renamed, nil, `namespace "fresh"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := &allowList{allowed: map[string]bool{digestA: true, digestB: true, digestC: true}}
			w, err := admission.New(d, envs)
			if err != nil {
				t.Fatal(err)
			}
			var h http.Handler = w
			if tc.env != "" {
				h = w.ValidatorFor(tc.env)
			}
			code, out, raw := post(t, h, tc.body)
			if code != 200 {
				t.Fatalf("status %d: %s", code, raw)
			}
			got := d.digests()
			slices.Sort(got)
			if !slices.Equal(got, tc.wantCalls) {
				t.Errorf("gate asked %v, want %v", got, tc.wantCalls)
			}
			if tc.wantInMsg != "" {
				if out.Response.Allowed || out.Response.Status == nil || !strings.Contains(out.Response.Status.Message, tc.wantInMsg) {
					t.Errorf("answer %+v, want a denial mentioning %q", out.Response, tc.wantInMsg)
				}
			} else if !out.Response.Allowed {
				t.Errorf("denied: %+v", out.Response.Status)
			}
		})
	}
}
