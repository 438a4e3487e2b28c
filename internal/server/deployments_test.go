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
	"github.com/hallmark-dev/hallmark/gate/gatetest"
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

// TestForgedDecisionsRefusedAndIgnored: a VSA or decision signed by a key
// without the gate role is refused at upload, and one that reached the
// store anyway is neither listed nor counted as deployed nor rechecked.
func TestForgedDecisionsRefusedAndIgnored(t *testing.T) {
	bothStores(t, func(t *testing.T, st store.Store, c *manualClock) {
		w := newWorld(t)
		s, ts := start(t, w, testConfig(t, ""), st)
		t0 := c.now()
		decision := gate.Decision{Artifact: policy.Artifact{Digest: digest.MustParse(digestC)}, Environment: "prod", Allowed: true, DecidedAt: t0, Source: gate.AdmissionSource,
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
		forged := gatetest.PutDecision(t, st, w.scanner, digestA, "prod", true, t0.Add(time.Hour), gate.AdmissionSource)
		stranger := gatetest.PutDecision(t, st, w.stranger, digestB, "prod", true, t0.Add(time.Hour), gate.AdmissionSource)
		ds, ignored, err := gate.Deployments(t.Context(), st, w.trust, gate.DeploymentQuery{})
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
		deployed, _, err := gate.Deployed(t.Context(), st, w.trust)
		if err != nil || len(deployed) != 1 || deployed[0].Artifact.Digest.String() != digestC {
			t.Errorf("deployed %+v (%v), want only C", deployed, err)
		}
		rs, ignored, err := s.gate.RecheckDeployed(t.Context(), "test")
		if err != nil || len(rs) != 1 || rs[0].Artifact.Digest.String() != digestC || len(ignored) != 2 {
			t.Errorf("rechecked %+v, ignored %d (%v), want only C and two ignored", rs, len(ignored), err)
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
			prod = append(prod, gatetest.PutDecision(t, st, w.gateKey, digestA, "prod", true, t0.Add(time.Duration(i)*time.Minute), "api"))
			c.advance(time.Second)
		}
		// Three staging decisions stored at one instant, then newer ones.
		for i := range 3 {
			gatetest.PutDecision(t, st, w.gateKey, digestB, "staging", i%2 == 0, t0.Add(time.Duration(10+i)*time.Minute), "api")
		}
		c.advance(time.Second)
		for i := range 4 {
			gatetest.PutDecision(t, st, w.gateKey, digestC, "staging", true, t0.Add(time.Duration(20+i)*time.Minute), "api")
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
			var ds []gate.Deployment
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
		var ds []gate.Deployment
		call(t, ts, "GET", "/v1/deployments?env=prod&limit=3", readerToken, nil, &ds)
		if len(ds) == 3 && (ds[0].ID != prod[4] || ds[2].ID != prod[2]) {
			t.Errorf("prod limit 3: %s..%s, want the newest %s..%s", ds[0].ID, ds[2].ID, prod[4], prod[2])
		}
		// Limit 1 with the environment filter reads page by page through
		// the tie of three staging records stored at one instant.
		got, _, err := gate.Deployments(t.Context(), st, w.trust, gate.DeploymentQuery{Environment: "prod", Limit: 1})
		if err != nil || len(got) != 1 || got[0].ID != prod[4] {
			t.Errorf("prod limit 1: %+v, %v", got, err)
		}
		bTies, _, err := gate.Deployments(t.Context(), st, w.trust, gate.DeploymentQuery{Artifact: digest.MustParse(digestB), Limit: 1})
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
