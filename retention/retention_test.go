package retention_test

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	digestpkg "github.com/hallmark-dev/hallmark/digest"

	"github.com/google/go-cmp/cmp"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/retention"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/store/postgres"
	"github.com/hallmark-dev/hallmark/store/postgres/pgtest"
	"github.com/hallmark-dev/hallmark/store/sqlite"
	"github.com/hallmark-dev/hallmark/trust"
	"github.com/hallmark-dev/hallmark/vuln"
)

type opener func(t *testing.T, now func() time.Time) store.Store

func stores() map[string]opener {
	return map[string]opener{
		"sqlite": func(t *testing.T, now func() time.Time) store.Store {
			s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "evidence.db"), sqlite.WithClock(now))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		"postgres": func(t *testing.T, now func() time.Time) store.Store {
			s, err := postgres.Open(t.Context(), pgtest.FreshSchema(t), postgres.WithClock(now))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
	}
}

// history is a store with sixty days of one team's evidence and decisions,
// and the IDs the rules must keep or prune.
type history struct {
	st         store.Store
	tr         *trust.Trust
	now        time.Time
	wantPruned map[string]string // ID -> reason
	mustKeep   map[string]string // ID -> why
}

func newHistory(t *testing.T, open opener) *history {
	gateK := attesttest.Key(t, keys.ECDSAP256)
	scanK := attesttest.Key(t, keys.ECDSAP256)
	otherScanK := attesttest.Key(t, keys.Ed25519)
	approveK := attesttest.Key(t, keys.Ed25519)
	tr := trust.New(
		trust.Key{Name: "gate", Public: gateK.Public(), Roles: []trust.Role{trust.RoleGate}},
		trust.Key{Name: "scanner", Public: scanK.Public(), Roles: []trust.Role{trust.RoleScanner}},
		trust.Key{Name: "scanner2", Public: otherScanK.Public(), Roles: []trust.Role{trust.RoleScanner}},
		trust.Key{Name: "approver", Public: approveK.Public(), Roles: []trust.Role{trust.RoleApprover}},
	)
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	clock := now.Add(-60 * 24 * time.Hour)
	st := open(t, func() time.Time { return clock })
	h := &history{st: st, tr: tr, now: now, wantPruned: map[string]string{}, mustKeep: map[string]string{}}
	subA := attesttest.Subject("app-a", []byte("artifact a"))
	subB := attesttest.Subject("app-b", []byte("artifact b"))
	digest := func(s attest.Subject) string { return "sha256:" + s.Digest["sha256"] }
	put := func(v *attest.Verified) string {
		t.Helper()
		if _, err := st.Put(t.Context(), v); err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(time.Minute)
		return v.ID
	}
	n := 0
	scan := func(k *keys.PrivateKey, s attest.Subject) string {
		n++
		return put(attesttest.Verified(t, k, vuln.PredicateType, map[string]any{"scan": n}, s))
	}
	// decide records a VSA and a decision as the gate does, and returns
	// the decision's and the VSA's IDs.
	decide := func(s attest.Subject, env string, allowed bool, source, review string, evidence ...string) (string, string) {
		n++
		vsa := put(attesttest.Verified(t, gateK, gate.VSAPredicateType, map[string]any{"n": n}, s))
		d := gate.Decision{Artifact: policy.Artifact{Digest: digestpkg.MustParse(digest(s)), Name: s.Name}, Environment: env, Allowed: allowed,
			Violations: []policy.Violation{}, Evidence: evidence, Ignored: []policy.Ignored{}, DecidedAt: clock, Source: source, VSA: vsa}
		if review != "" {
			d.Workload = &gate.Workload{Namespace: "shop", Kind: "Deployment", Name: s.Name, Review: review}
		}
		return put(attesttest.Verified(t, gateK, gate.DecisionPredicateType, d, s)), vsa
	}

	// Sixty days ago: A is scanned, approved and admitted to prod, in the
	// review that also tried B and denied it.
	sbomA := put(attesttest.Verified(t, scanK, gate.CycloneDXPredicateType, map[string]any{"components": []any{}}, subA))
	s1 := scan(scanK, subA)
	approval := put(attesttest.Verified(t, approveK, gate.ApprovalPredicateType, map[string]any{"artifact": digest(subA), "environment": "prod"}, subA))
	admitA, admitVSA := decide(subA, "prod", true, "admission", "review-1", s1, sbomA, approval)
	denyB, denyBVSA := decide(subB, "prod", false, "admission", "review-1")
	h.mustKeep[sbomA] = "the SBOM an admission allow used"
	h.mustKeep[s1] = "a superseded scan an admission allow used"
	h.mustKeep[approval] = "approvals are never pruned"
	h.mustKeep[admitA] = "admission allows record what is deployed"
	h.mustKeep[admitVSA] = "the VSA of a kept decision"
	h.mustKeep[denyB] = "the denial that decided review-1: without it A's allow in that review would not count"
	h.mustKeep[denyBVSA] = "the VSA of a kept decision"
	loneDeny, _ := decide(subB, "dev", false, "cli", "")
	h.mustKeep[loneDeny] = "an old denial that is still the latest about B in dev"

	// Fifty days ago: B is denied in staging by the CLI, then rechecks
	// of A run.
	sB := scan(scanK, subB)
	oldDeny, oldDenyVSA := decide(subB, "staging", false, "cli", "", sB)
	h.wantPruned[oldDeny], h.wantPruned[oldDenyVSA] = retention.ReasonOldDenial, retention.ReasonPrunedDecisionVSA
	h.mustKeep[sB] = "the only (newest) scan of B by its scanner"
	s2 := scan(scanK, subA)
	h.wantPruned[s2] = retention.ReasonSupersededScan
	s3 := scan(scanK, subA)
	oldRecheck, oldRecheckVSA := decide(subA, "prod", true, "recheck", "", s1, s3, approval)
	h.wantPruned[oldRecheck], h.wantPruned[oldRecheckVSA] = retention.ReasonSupersededRecheck, retention.ReasonPrunedDecisionVSA
	h.wantPruned[s3] = retention.ReasonSupersededScan // only a pruned recheck used it
	other := scan(otherScanK, subA)
	h.mustKeep[other] = "the newest scan by another scanner key"
	// A decision record under the scanner's key is not the gate's: kept,
	// reported as unreadable.
	forged := put(attesttest.Verified(t, scanK, gate.DecisionPredicateType, gate.Decision{Environment: "prod", Allowed: false}, subB))
	h.mustKeep[forged] = "unreadable decisions are left for a person"

	// Yesterday: A is scanned and rechecked again; B is denied in staging
	// again; CLI allows and denials inside the window stay.
	clock = now.Add(-24 * time.Hour)
	s4 := scan(scanK, subA)
	h.mustKeep[s4] = "the newest scan of A by its scanner"
	newRecheck, _ := decide(subA, "prod", true, "recheck", "", s1, s4, approval)
	h.mustKeep[newRecheck] = "the latest decision about A in prod"
	newDeny, _ := decide(subB, "staging", false, "cli", "")
	h.mustKeep[newDeny] = "inside the window, and the latest about B in staging"
	laterB, _ := decide(subB, "prod", false, "cli", "")
	h.mustKeep[laterB] = "the latest decision about B in prod"
	return h
}

func TestPlanAndApply(t *testing.T) {
	for name, open := range stores() {
		t.Run(name, func(t *testing.T) {
			h := newHistory(t, open)
			ctx := t.Context()
			before, err := h.st.List(ctx, store.Query{})
			if err != nil {
				t.Fatal(err)
			}
			p, err := retention.NewPlan(ctx, h.st, h.tr, 30*24*time.Hour, h.now)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, it := range p.Prune {
				got[it.ID] = it.Reason
			}
			if diff := cmp.Diff(h.wantPruned, got); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
			for id, why := range h.mustKeep {
				if _, ok := got[id]; ok {
					t.Errorf("plan prunes %s: %s", id, why)
				}
			}
			if p.Records != len(before) || len(p.Unreadable) != 1 {
				t.Errorf("plan read %d records (store has %d), %d unreadable (want 1)", p.Records, len(before), len(p.Unreadable))
			}
			// A plan is a dry run: nothing is gone yet.
			if after, _ := h.st.List(ctx, store.Query{}); len(after) != len(before) {
				t.Fatalf("planning removed records: %d -> %d", len(before), len(after))
			}

			removed, err := retention.Apply(ctx, h.st, p)
			if err != nil || removed != len(h.wantPruned) {
				t.Fatalf("Apply = %d, %v; want %d", removed, err, len(h.wantPruned))
			}
			after, err := h.st.List(ctx, store.Query{})
			if err != nil {
				t.Fatal(err)
			}
			if len(after) != len(before)-removed {
				t.Errorf("%d records after pruning %d of %d", len(after), removed, len(before))
			}
			// The audit trail closes: every decision left verifies as the
			// gate's, and the evidence and VSA it names are all still there.
			for _, r := range after {
				if r.PredicateType != gate.DecisionPredicateType {
					continue
				}
				d, err := gate.ReadDecision(ctx, r.Bundle, h.tr)
				if err != nil {
					continue // the forged one
				}
				for _, id := range append(slices.Clone(d.Evidence), d.VSA) {
					if _, err := h.st.Get(ctx, id); err != nil {
						t.Errorf("decision %s names %s, which is gone: %v", r.ID, id, err)
					}
				}
			}
			// Pruning again finds nothing more.
			again, err := retention.NewPlan(ctx, h.st, h.tr, 30*24*time.Hour, h.now)
			if err != nil || len(again.Prune) != 0 {
				t.Errorf("second plan: %v, prunes %d", err, len(again.Prune))
			}
			if c, ok := h.st.(store.Checker); ok {
				if err := c.Check(ctx); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// TestWindowKeepsRecent: with a window longer than the history nothing
// is pruned, and a window that is not positive is refused.
func TestWindow(t *testing.T) {
	h := newHistory(t, stores()["sqlite"])
	p, err := retention.NewPlan(t.Context(), h.st, h.tr, 90*24*time.Hour, h.now)
	if err != nil || len(p.Prune) != 0 {
		t.Errorf("90-day window: %v, prunes %+v", err, p.Prune)
	}
	if _, err := retention.NewPlan(t.Context(), h.st, h.tr, 0, h.now); err == nil {
		t.Error("a zero window was accepted")
	}
}

// TestPaging: a store with more records than a page, many stored at one
// instant (a group commit), is read whole, once each.
func TestPaging(t *testing.T) {
	k := attesttest.Key(t, keys.ECDSAP256)
	tr := trust.New(trust.Key{Name: "scanner", Public: k.Public(), Roles: []trust.Role{trust.RoleScanner}})
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	st := stores()["sqlite"](t, func() time.Time { return at })
	sub := attesttest.Subject("x", []byte("x"))
	var vs []*attest.Verified
	for i := range 1200 {
		vs = append(vs, attesttest.Verified(t, k, vuln.PredicateType, map[string]any{"i": i}, sub))
	}
	if _, err := st.(store.Batcher).PutAll(t.Context(), vs[:700]); err != nil { // one instant
		t.Fatal(err)
	}
	at = at.Add(time.Hour)
	if _, err := st.(store.Batcher).PutAll(t.Context(), vs[700:]); err != nil {
		t.Fatal(err)
	}
	p, err := retention.NewPlan(t.Context(), st, tr, time.Minute, at.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, it := range p.Prune {
		ids[it.ID] = true
	}
	if p.Records != 1200 || len(p.Prune) != 1199 || len(ids) != 1199 {
		t.Errorf("read %d records, pruned %d (%d distinct); want 1200, 1199 superseded scans", p.Records, len(p.Prune), len(ids))
	}
}
