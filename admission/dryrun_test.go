package admission_test

import (
	"bytes"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hallmark-dev/hallmark/admission"
)

// asDryRun turns a fixture into the review the API server sends for
// kubectl apply --dry-run=server: request.dryRun is true.
func asDryRun(t *testing.T, body []byte) []byte {
	t.Helper()
	out := bytes.Replace(body, []byte(`"dryRun": false`), []byte(`"dryRun": true`), 1)
	if bytes.Equal(out, body) {
		t.Fatal(`fixture has no "dryRun": false to turn into a dry run`)
	}
	return out
}

// inNamespace moves pod.json from namespace payments to ns.
func inNamespace(t *testing.T, body []byte, ns string) []byte {
	t.Helper()
	out := bytes.ReplaceAll(body, []byte(`"namespace": "payments"`), []byte(`"namespace": "`+ns+`"`))
	if bytes.Equal(out, body) {
		t.Fatal(`fixture has no "namespace": "payments"`)
	}
	return out
}

// dryRuns lists the DryRun flag of each Decider call, in call order.
func (d *allowList) dryRuns() []bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []bool
	for _, c := range d.calls {
		out = append(out, c.DryRun)
	}
	return out
}

// TestDryRunSameAnswerNothingCached: a dry-run review is decided like a
// real one and gets the same answer, the Decider is told it is a dry run
// (so it records nothing), and its allow is not cached: a later real
// review must reach the Decider, which records it.
func TestDryRunSameAnswerNothingCached(t *testing.T) {
	for _, tc := range []struct {
		name    string
		allowed []string
	}{
		{"allowed", []string{digestA, digestB}},
		{"denied", []string{digestA}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &allowList{allowed: map[string]bool{}, policy: "p1"}
			for _, a := range tc.allowed {
				d.allowed[a] = true
			}
			w, err := admission.New(d, envs, admission.WithCache(admission.NewCache(time.Hour, 100, nil)))
			if err != nil {
				t.Fatal(err)
			}
			real := fixture(t, "pod.json")
			dry := asDryRun(t, real)

			_, dryOut, dryRaw := post(t, w, dry)
			if got := d.dryRuns(); !slices.Equal(got, []bool{true, true}) {
				t.Fatalf("dry-run review: Decider calls with DryRun %v, want two dry runs", got)
			}
			_, _, dryRaw2 := post(t, w, dry)
			if n := len(d.dryRuns()); n != 4 {
				t.Errorf("second dry run: %d Decider calls, want 4 (a dry-run allow is not cached)", n)
			}
			_, _, realRaw := post(t, w, real)
			if got := d.dryRuns(); !slices.Equal(got[4:], []bool{false, false}) {
				t.Fatalf("real review after dry runs: Decider calls with DryRun %v, want two real ones", got)
			}
			if dryRaw != realRaw || dryRaw2 != realRaw {
				t.Errorf("dry run answered differently from the real review:\ndry:  %s\nreal: %s", dryRaw, realRaw)
			}
			if dryOut.Response.Allowed != (len(tc.allowed) == 2) {
				t.Errorf("dry run allowed = %v: %s", dryOut.Response.Allowed, dryRaw)
			}
			// After the real allow is on record, a dry run may be answered
			// from the cache; a denial is never cached.
			_, _, afterRaw := post(t, w, dry)
			wantCalls := 6
			if len(tc.allowed) == 1 {
				wantCalls = 7 // A cached, B (denied) asked again
			}
			if n := len(d.dryRuns()); n != wantCalls || afterRaw != realRaw {
				t.Errorf("dry run after the real review: %d Decider calls (want %d), answer %s", n, wantCalls, afterRaw)
			}
		})
	}
}

// TestDryRunMutate: the mutating endpoint pins a dry run's tags as it
// would a real review's, tells the Decider it is a dry run, and caches
// nothing, so the validating review that follows a real mutation is still
// decided and recorded.
func TestDryRunMutate(t *testing.T) {
	tw := newTagWorld(t, nil)
	d := &allowList{allowed: map[string]bool{digestA: true, tw.api: true, tw.debug: true}, policy: "p1"}
	w, err := admission.New(d, envs, admission.WithResolver(tw.resolver), admission.WithCache(admission.NewCache(time.Hour, 100, nil)))
	if err != nil {
		t.Fatal(err)
	}
	real := tw.fixture(t, "pod-tags.json")
	dry := asDryRun(t, real)
	m := w.Mutator()
	status, dryOut, dryRaw := send(t, m, "/admission/mutate", dry)
	if status != http.StatusOK || !dryOut.Response.Allowed || dryOut.Response.Patch == nil {
		t.Fatalf("dry-run mutation: %d %s", status, dryRaw)
	}
	calls := d.dryRuns()
	if len(calls) != 3 || slices.Contains(calls, false) {
		t.Fatalf("dry-run mutation: Decider calls with DryRun %v, want three dry runs", calls)
	}
	// Nothing cached: the validating dry run asks again.
	send(t, w, "/admission/validate", dry)
	if n := len(d.dryRuns()); n != 6 {
		t.Fatalf("validating dry run after a dry-run mutation: %d Decider calls, want 6", n)
	}
	_, realOut, realRaw := send(t, m, "/admission/mutate", real)
	if !bytes.Equal(realOut.Response.Patch, dryOut.Response.Patch) || realOut.Response.Allowed != dryOut.Response.Allowed {
		t.Errorf("dry run patched differently:\ndry:  %s\nreal: %s", dryRaw, realRaw)
	}
	if got := d.dryRuns()[6:]; !slices.Equal(got, []bool{false, false, false}) {
		t.Errorf("real mutation: Decider calls with DryRun %v", got)
	}
}

// TestCachePerNamespace: an allow cached for one namespace does not answer
// for another namespace of the same environment, so the first admission
// of a digest into each namespace is decided and recorded.
func TestCachePerNamespace(t *testing.T) {
	d := &allowList{allowed: map[string]bool{digestA: true, digestB: true}, policy: "p1"}
	two := admission.Environments{Namespaces: map[string]string{"payments": "prod", "billing": "prod"}}
	var cached []bool
	w, err := admission.New(d, two, admission.WithCache(admission.NewCache(time.Hour, 100, nil)),
		admission.WithObserver(func(o admission.Outcome, _ time.Duration) { cached = append(cached, o.Cached) }))
	if err != nil {
		t.Fatal(err)
	}
	payments := fixture(t, "pod.json")
	billing := inNamespace(t, payments, "billing")
	for _, body := range [][]byte{payments, billing, payments, billing} {
		if _, out, raw := post(t, w, body); !out.Response.Allowed {
			t.Fatalf("approved pod denied: %s", raw)
		}
	}
	d.mu.Lock()
	var got []string
	for _, c := range d.calls {
		got = append(got, c.Namespace+" "+c.Environment+" "+c.Digest.String()[:15])
	}
	d.mu.Unlock()
	slices.Sort(got)
	want := []string{"billing prod " + digestA[:15], "billing prod " + digestB[:15], "payments prod " + digestA[:15], "payments prod " + digestB[:15]}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Decider calls (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]bool{false, false, true, true}, cached); diff != "" {
		t.Errorf("cached outcomes (-want +got):\n%s", diff)
	}

	c := admission.NewCache(time.Hour, 10, nil)
	c.Allow(digestA, "payments", "prod", "p")
	if c.Allowed(digestA, "billing", "prod", "p") || !c.Allowed(digestA, "payments", "prod", "p") {
		t.Error("Cache: an allow in payments answers for billing, or not for payments")
	}
}
