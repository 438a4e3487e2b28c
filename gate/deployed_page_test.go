package gate_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	digestpkg "github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/gate/gatetest"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/store/postgres"
	"github.com/hallmark-dev/hallmark/store/postgres/pgtest"
	"github.com/hallmark-dev/hallmark/store/sqlite"
)

// TestDeployedPages: listing decisions a page at a time (so that recheck's
// memory does not grow with the decisions stored) gives what one listing
// of them all gave, also when a page boundary falls inside a group of
// records stored at the same instant, which the next page returns again.
func TestDeployedPages(t *testing.T) {
	for _, clock := range []string{"same instant", "distinct instants"} {
		t.Run(clock, func(t *testing.T) {
			t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
			at := t0
			now := func() time.Time {
				if clock == "distinct instants" {
					at = at.Add(time.Millisecond)
				}
				return at
			}
			t.Run("sqlite", func(t *testing.T) {
				st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "evidence.db"), sqlite.WithClock(now))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { st.Close() })
				checkPages(t, st, t0)
			})
			t.Run("postgres", func(t *testing.T) {
				st, err := postgres.Open(t.Context(), pgtest.FreshSchema(t), postgres.WithClock(now))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { st.Close() })
				checkPages(t, st, t0)
			})
		})
	}
}

func checkPages(t *testing.T, st store.Store, t0 time.Time) {
	gateKey, tr := gateTrust(t)
	otherKey, _ := gateTrust(t) // not in tr: its decisions are ignored
	digests := []string{digestA, digestB, digestC}
	for i := range 12 {
		d := digests[i%3]
		wl := &gate.Workload{Namespace: fmt.Sprint("ns-", i%4), Kind: "Deployment", Name: "app", Review: fmt.Sprint("uid-", i)}
		gatetest.PutWorkload(t, st, gateKey, d, "prod", true, t0.Add(time.Duration(i)*time.Minute), gate.AdmissionSource, wl)
		gatetest.PutDecision(t, st, gateKey, d, "prod", i%2 == 0, t0.Add(time.Duration(i)*time.Minute), gate.RecheckSource)
		if i%5 == 0 { // the review also denied another digest: it admitted nothing
			gatetest.PutWorkload(t, st, gateKey, digests[(i+1)%3], "prod", false, t0, gate.AdmissionSource, wl)
		}
		if i%4 == 0 {
			gatetest.PutDecision(t, st, otherKey, d, "prod", true, t0, gate.AdmissionSource)
		}
		gatetest.PutWorkload(t, st, gateKey, d, "staging", true, t0.Add(time.Duration(i)*time.Hour), gate.AdmissionSource, wl)
	}
	type listing struct {
		Running     []gate.Running
		Deployments []gate.Deployment
		Ignored     []gate.IgnoredDecision
		Limited     []gate.Deployment
		ByArtifact  []gate.Deployment
	}
	list := func(t *testing.T) listing {
		var l listing
		var err error
		if l.Running, l.Ignored, err = gate.Deployed(t.Context(), st, tr); err != nil {
			t.Fatal(err)
		}
		if l.Deployments, _, err = gate.Deployments(t.Context(), st, tr, gate.DeploymentQuery{}); err != nil {
			t.Fatal(err)
		}
		if l.Limited, _, err = gate.Deployments(t.Context(), st, tr, gate.DeploymentQuery{Environment: "staging", Limit: 7}); err != nil {
			t.Fatal(err)
		}
		if l.ByArtifact, _, err = gate.Deployments(t.Context(), st, tr, gate.DeploymentQuery{Artifact: digestpkg.MustParse(digestB)}); err != nil {
			t.Fatal(err)
		}
		return l
	}
	want := list(t) // one page holds them all
	if len(want.Running) == 0 || len(want.Ignored) != 3 || len(want.Deployments) != 39 || len(want.Limited) != 7 {
		t.Fatalf("one page: %d running, %d ignored, %d decisions, %d limited", len(want.Running), len(want.Ignored), len(want.Deployments), len(want.Limited))
	}
	for _, page := range []int{1, 2, 3, 7} {
		t.Run(fmt.Sprint("page ", page), func(t *testing.T) {
			defer gate.SetDecisionPage(page)()
			if diff := cmp.Diff(asJSON(t, want), asJSON(t, list(t))); diff != "" {
				t.Errorf("paged listing differs (-one page +pages of %d):\n%s", page, diff)
			}
		})
	}
}

// asJSON is v as the CLI and the server print it.
func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
