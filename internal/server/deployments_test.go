package server

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/store/postgres"
	"github.com/hallmark-dev/hallmark/store/postgres/pgtest"
	"github.com/hallmark-dev/hallmark/store/sqlite"
)

// manualClock is a store clock the tests move by hand, so several records
// can share one StoredAt.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *manualClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *manualClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// bothStores runs f against a real SQLite file and a real PostgreSQL schema.
func bothStores(t *testing.T, f func(t *testing.T, st store.Store, c *manualClock)) {
	t.Run("sqlite", func(t *testing.T) {
		c := &manualClock{t: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
		st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "evidence.db"), sqlite.WithClock(c.now))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		f(t, st, c)
	})
	t.Run("postgres", func(t *testing.T) {
		c := &manualClock{t: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
		st, err := postgres.Open(t.Context(), pgtest.FreshSchema(t), postgres.WithClock(c.now))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		f(t, st, c)
	})
}

// putDecision stores a decision signed by key, as if it had been stored
// by any path (an older server, a direct database write).
func putDecision(t *testing.T, st store.Store, key *keys.PrivateKey, digest, env string, allowed bool, at time.Time, source string) string {
	t.Helper()
	var wl *gate.Workload
	if source == AdmissionSource {
		wl = &gate.Workload{Namespace: "payments", Kind: "Deployment", Name: "api"}
	}
	return putWorkload(t, st, key, digest, env, allowed, at, source, wl)
}

// putWorkload is putDecision about a workload.
func putWorkload(t *testing.T, st store.Store, key *keys.PrivateKey, dg, env string, allowed bool, at time.Time, source string, wl *gate.Workload) string {
	t.Helper()
	d := gate.Decision{Artifact: policy.Artifact{Digest: digest.MustParse(dg)}, Environment: env, Allowed: allowed, DecidedAt: at, Source: source, Workload: wl,
		Violations: []policy.Violation{}, Evidence: []string{}, Ignored: []policy.Ignored{}}
	rec, err := st.Put(t.Context(), attesttest.Verified(t, key, gate.DecisionPredicateType, d, subject(dg)))
	if err != nil {
		t.Fatal(err)
	}
	return rec.ID
}

// TestForgedDecisionsRefusedAndIgnored: a VSA or decision signed by a key
// without the gate role is refused at upload, and one that reached the
// store anyway is neither listed nor counted as deployed nor rechecked.
func TestForgedDecisionsRefusedAndIgnored(t *testing.T) {
	bothStores(t, func(t *testing.T, st store.Store, c *manualClock) {
		w := newWorld(t)
		s, ts := start(t, w, testConfig(t, ""), st)
		t0 := c.now()
		decision := gate.Decision{Artifact: policy.Artifact{Digest: digest.MustParse(digestC)}, Environment: "prod", Allowed: true, DecidedAt: t0, Source: AdmissionSource,
			Workload: &gate.Workload{Namespace: "payments", Kind: "Pod"}}
		for _, tc := range []struct {
			name, predicateType string
			key                 *keys.PrivateKey
		}{
			{"decision by a scanner", gate.DecisionPredicateType, w.scanner},
			{"decision by an approver", gate.DecisionPredicateType, w.approver},
			{"VSA by a scanner", gate.VSAPredicateType, w.scanner},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var e struct{ Error string }
				b := attesttest.Bundle(t, tc.key, tc.predicateType, decision, subject(digestC))
				if code := call(t, ts, "POST", "/v1/bundles", uploaderToken, b, &e); code != http.StatusUnprocessableEntity ||
					!strings.Contains(e.Error, tc.predicateType) || !strings.Contains(e.Error, `"gate" role`) || !strings.Contains(e.Error, "not stored") {
					t.Fatalf("upload: %d %q", code, e.Error)
				}
			})
		}
		if recs, err := st.List(t.Context(), store.Query{Subject: digest.MustParse(digestC)}); err != nil || len(recs) != 0 {
			t.Fatalf("refused uploads were stored: %d records, %v", len(recs), err)
		}
		// A decision by the gate key itself is the gate's record: accepted.
		if code := call(t, ts, "POST", "/v1/bundles", uploaderToken, attesttest.Bundle(t, w.gateKey, gate.DecisionPredicateType, decision, subject(digestC)), nil); code != http.StatusCreated {
			t.Fatalf("upload of a gate-signed decision: %d", code)
		}

		// Forgeries stored behind the upload handler's back: by a scanner
		// key (verifies, wrong role) and by an untrusted key.
		c.advance(time.Second)
		forged := putDecision(t, st, w.scanner, digestA, "prod", true, t0.Add(time.Hour), AdmissionSource)
		stranger := putDecision(t, st, w.stranger, digestB, "prod", true, t0.Add(time.Hour), AdmissionSource)
		ds, ignored, err := Deployments(t.Context(), st, w.trust, DeploymentQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != 1 || ds[0].Artifact.Digest.String() != digestC {
			t.Errorf("listed %+v, want only the gate's decision about C", ds)
		}
		if len(ignored) != 2 || !strings.Contains(ignored[0].Reason+ignored[1].Reason, "gate role") ||
			!cmp.Equal([]string{ignored[0].ID, ignored[1].ID}, []string{forged, stranger}, cmp.Transformer("set", func(s []string) map[string]bool {
				m := map[string]bool{}
				for _, x := range s {
					m[x] = true
				}
				return m
			})) {
			t.Errorf("ignored %+v, want %s and %s", ignored, forged, stranger)
		}
		req, _ := http.NewRequestWithContext(t.Context(), "GET", ts.URL+"/v1/deployments", nil)
		req.Header.Set("Authorization", "Bearer "+readerToken)
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get(IgnoredDecisionsHeader); got != "2" {
			t.Errorf("%s: %q, want 2", IgnoredDecisionsHeader, got)
		}
		deployed, _, err := Deployed(t.Context(), st, w.trust)
		if err != nil || len(deployed) != 1 || deployed[0].Artifact.Digest.String() != digestC {
			t.Errorf("deployed %+v (%v), want only C", deployed, err)
		}
		rs, ignored, err := RecheckDeployed(t.Context(), st, w.trust, s.gate, "test")
		if err != nil || len(rs) != 1 || rs[0].Artifact.Digest.String() != digestC || len(ignored) != 2 {
			t.Errorf("rechecked %+v, ignored %d (%v), want only C and two ignored", rs, len(ignored), err)
		}
	})
}

// TestDeployedFollowsAdmissions: what is deployed is every (environment,
// workload, artifact) an admission review allowed, whatever was decided
// later about the digest elsewhere. Attack (issue 20 item 3): recheck kept
// only the latest decision per (digest, environment), so an artifact
// admitted in one namespace and later denied in another, by POST /v1/gate,
// by the CLI or by a recheck was no longer rechecked, though it still ran.
func TestDeployedFollowsAdmissions(t *testing.T) {
	bothStores(t, func(t *testing.T, st store.Store, c *manualClock) {
		w := newWorld(t)
		t0 := c.now()
		api := &gate.Workload{Namespace: "payments", Kind: "Deployment", Name: "api"}
		web := &gate.Workload{Namespace: "shop", Kind: "Deployment", Name: "web"}
		// A: admitted for api, then denied everywhere else: still deployed.
		putWorkload(t, st, w.gateKey, digestA, "prod", true, t0, AdmissionSource, api)
		putWorkload(t, st, w.gateKey, digestA, "prod", false, t0.Add(time.Hour), AdmissionSource, web)
		putDecision(t, st, w.gateKey, digestA, "prod", false, t0.Add(2*time.Hour), "api")
		putDecision(t, st, w.gateKey, digestA, "prod", false, t0.Add(3*time.Hour), "cli")
		putDecision(t, st, w.gateKey, digestA, "prod", false, t0.Add(4*time.Hour), RecheckSource)
		// A again for api later: one entry, the latest admission.
		putWorkload(t, st, w.gateKey, digestA, "prod", true, t0.Add(5*time.Hour), AdmissionSource, api)
		// B: allowed by the API and the CLI only: checks, not deployments.
		putDecision(t, st, w.gateKey, digestB, "prod", true, t0, "api")
		putDecision(t, st, w.gateKey, digestB, "prod", true, t0, "cli")
		// C: admitted in two workloads of staging, the deny stored later
		// but decided earlier changes nothing either.
		putWorkload(t, st, w.gateKey, digestC, "staging", true, t0.Add(time.Hour), AdmissionSource, web)
		putWorkload(t, st, w.gateKey, digestC, "staging", true, t0, AdmissionSource, api)
		putWorkload(t, st, w.gateKey, digestC, "staging", false, t0, AdmissionSource, api)
		// A review in checkout allowed A but denied B: denied as a whole,
		// so it admitted neither.
		checkout := gate.Workload{Namespace: "checkout", Kind: "Pod", Review: "uid-1"}
		putWorkload(t, st, w.gateKey, digestA, "prod", true, t0, AdmissionSource, &checkout)
		putWorkload(t, st, w.gateKey, digestB, "prod", false, t0, AdmissionSource, &checkout)
		// An admission recorded before decisions carried the workload.
		putDecision(t, st, w.gateKey, digestB, "staging", true, t0, "")
		legacy := gate.Decision{Artifact: policy.Artifact{Digest: digest.MustParse(digestB)}, Environment: "staging", Allowed: true, DecidedAt: t0, Source: AdmissionSource,
			Requester: "system:serviceaccount:kube-system:replicaset-controller (Pod reports/)", Violations: []policy.Violation{}}
		if _, err := st.Put(t.Context(), attesttest.Verified(t, w.gateKey, gate.DecisionPredicateType, legacy, subject(digestB))); err != nil {
			t.Fatal(err)
		}
		running, ignored, err := Deployed(t.Context(), st, w.trust)
		if err != nil || len(ignored) != 0 {
			t.Fatalf("Deployed: %v, ignored %+v", err, ignored)
		}
		var got []string
		for _, r := range running {
			got = append(got, fmt.Sprintf("%s %s/%s/%s %s %s", r.Environment, r.Workload.Namespace, r.Workload.Kind, r.Workload.Name, r.Artifact.Digest.String()[:15], r.AdmittedAt.Sub(t0)))
		}
		want := []string{
			"prod payments/Deployment/api " + digestA[:15] + " 5h0m0s",
			"staging payments/Deployment/api " + digestC[:15] + " 0s",
			"staging reports/Pod/ " + digestB[:15] + " 0s",
			"staging shop/Deployment/web " + digestC[:15] + " 1h0m0s",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("deployed (-want +got):\n%s", diff)
		}
	})
}

// TestDeploymentsNewestWithLimit: listings are newest first and bounded;
// the limit counts the decisions returned, not the records read, so an
// environment filter still fills it past a page of other environments and
// across records stored at the same instant.
func TestDeploymentsNewestWithLimit(t *testing.T) {
	bothStores(t, func(t *testing.T, st store.Store, c *manualClock) {
		w := newWorld(t)
		_, ts := start(t, w, testConfig(t, ""), st)
		t0 := c.now()
		var prod []string
		for i := range 5 {
			prod = append(prod, putDecision(t, st, w.gateKey, digestA, "prod", true, t0.Add(time.Duration(i)*time.Minute), "api"))
			c.advance(time.Second)
		}
		// Three staging decisions stored at one instant, then newer ones.
		for i := range 3 {
			putDecision(t, st, w.gateKey, digestB, "staging", i%2 == 0, t0.Add(time.Duration(10+i)*time.Minute), "api")
		}
		c.advance(time.Second)
		for i := range 4 {
			putDecision(t, st, w.gateKey, digestC, "staging", true, t0.Add(time.Duration(20+i)*time.Minute), "api")
			c.advance(time.Second)
		}
		for _, tc := range []struct {
			path string
			want []string // environments and digests, newest first
			n    int
		}{
			{"/v1/deployments?limit=2", []string{"staging " + digestC, "staging " + digestC}, 2},
			{"/v1/deployments?env=prod&limit=3", []string{"prod " + digestA, "prod " + digestA, "prod " + digestA}, 3},
			{"/v1/deployments?env=staging&limit=6", nil, 6},
			{"/v1/deployments", nil, 12},
			{"/v1/deployments?artifact=" + digestB + "&limit=2", []string{"staging " + digestB, "staging " + digestB}, 2},
		} {
			var ds []Deployment
			if code := call(t, ts, "GET", tc.path, readerToken, nil, &ds); code != 200 {
				t.Fatalf("%s: %d", tc.path, code)
			}
			if len(ds) != tc.n {
				t.Errorf("%s: %d decisions, want %d", tc.path, len(ds), tc.n)
			}
			var got []string
			for i, d := range ds {
				got = append(got, d.Environment+" "+d.Artifact.Digest.String())
				// (B's three share a StoredAt: their order is by record ID.)
				if i > 0 && d.DecidedAt.After(ds[i-1].DecidedAt) && d.Artifact.Digest.String() != digestB {
					t.Errorf("%s: not newest first at %d", tc.path, i)
				}
			}
			if tc.want != nil {
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("%s (-want +got):\n%s", tc.path, diff)
				}
			}
		}
		var ds []Deployment
		call(t, ts, "GET", "/v1/deployments?env=prod&limit=3", readerToken, nil, &ds)
		if len(ds) == 3 && (ds[0].ID != prod[4] || ds[2].ID != prod[2]) {
			t.Errorf("prod limit 3: %s..%s, want the newest %s..%s", ds[0].ID, ds[2].ID, prod[4], prod[2])
		}
		// Limit 1 with the environment filter reads page by page through
		// the tie of three staging records stored at one instant.
		got, _, err := Deployments(t.Context(), st, w.trust, DeploymentQuery{Environment: "prod", Limit: 1})
		if err != nil || len(got) != 1 || got[0].ID != prod[4] {
			t.Errorf("prod limit 1: %+v, %v", got, err)
		}
		bTies, _, err := Deployments(t.Context(), st, w.trust, DeploymentQuery{Artifact: digest.MustParse(digestB), Limit: 1})
		if err != nil || len(bTies) != 1 {
			t.Fatalf("B limit 1: %+v, %v", bTies, err)
		}
		for _, bad := range []string{"limit=0", "limit=-1", "limit=x", fmt.Sprintf("limit=%d", MaxListLimit+1)} {
			if code := call(t, ts, "GET", "/v1/deployments?"+bad, readerToken, nil, nil); code != 400 {
				t.Errorf("%s: %d, want 400", bad, code)
			}
		}
	})
}
