package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/retention"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/store/sqlite"
)

// TestEvidencePrune: --dry-run lists what would go and removes nothing;
// the prune then removes exactly that, and what deployments ls --deployed
// lists is the same before and after.
func TestEvidencePrune(t *testing.T) {
	ta := newTestApp(t) // now: 2026-11-25 12:00
	dir := t.TempDir()
	gk := attesttest.Key(t, keys.Ed25519)
	if _, _, err := keys.WriteFiles(filepath.Join(dir, "gate"), gk, []byte("test-pass")); err != nil {
		t.Fatal(err)
	}
	trustFile := writeFile(t, filepath.Join(dir, "trust.yaml"), "version: 1\nkeys:\n  - {name: gate, publicKey: gate.pub, roles: [gate]}\n")
	clock := time.Date(2026, 9, 1, 9, 0, 0, 0, time.UTC)
	st, err := sqlite.Open(t.Context(), filepath.Join(ta.env[StoreEnv], "evidence.db"), sqlite.WithClock(func() time.Time { return clock }))
	if err != nil {
		t.Fatal(err)
	}
	subA, subB := attesttest.Subject("a", []byte("a")), attesttest.Subject("b", []byte("b"))
	decide := func(sub attest.Subject, allowed bool, source, review string) string {
		t.Helper()
		d := gate.Decision{Artifact: policy.Artifact{Digest: attesttest.Digest(sub), Name: sub.Name}, Environment: "prod", Allowed: allowed,
			DecidedAt: clock, Source: source, Violations: []policy.Violation{}}
		if review != "" {
			d.Workload = &gate.Workload{Namespace: "ns", Kind: "Deployment", Name: sub.Name, Review: review}
		}
		rec, err := st.Put(t.Context(), attesttest.Verified(t, gk, gate.DecisionPredicateType, d, sub))
		if err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(time.Hour)
		return rec.ID
	}
	decide(subA, true, "admission", "r1")
	decide(subB, false, "admission", "r1") // decides r1: kept
	oldDeny := decide(subB, false, "cli", "")
	decide(subB, false, "cli", "") // the latest about B: kept
	st.Close()

	deployed := func() string {
		t.Helper()
		ta.mustRun(t, "deployments", "ls", "--deployed", "--trust", trustFile, "--format", "json")
		return ta.out.String()
	}
	before := deployed()
	if code := ta.run("evidence", "prune", "--trust", trustFile); code != ExitUsage || !strings.Contains(ta.errOut.String(), "--keep is required") {
		t.Fatalf("prune without --keep: exit %d, %s", code, ta.errOut)
	}
	ta.mustRun(t, "evidence", "prune", "--trust", trustFile, "--keep", "720h", "--dry-run", "--format", "json")
	var plan retention.Plan
	if err := json.Unmarshal(ta.out.Bytes(), &plan); err != nil {
		t.Fatal(err)
	}
	if len(plan.Prune) != 1 || plan.Prune[0].ID != oldDeny || plan.Prune[0].Reason != retention.ReasonOldDenial || plan.Records != 4 {
		t.Fatalf("dry run: %+v", plan)
	}
	if !strings.Contains(ta.errOut.String(), "1 of 4 record(s) would remove") {
		t.Errorf("dry run summary: %s", ta.errOut)
	}
	ta.mustRun(t, "evidence", "prune", "--trust", trustFile, "--keep", "720h", "--compact")
	if !strings.Contains(ta.out.String(), "denial older than the window") || !strings.Contains(ta.errOut.String(), "1 of 4 record(s) removed") {
		t.Errorf("prune output:\n%s\n%s", ta.out, ta.errOut)
	}
	if after := deployed(); after != before {
		t.Errorf("deployments ls --deployed changed:\nbefore %s\nafter  %s", before, after)
	}
	st, err = sqlite.Open(t.Context(), filepath.Join(ta.env[StoreEnv], "evidence.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recs, err := st.List(t.Context(), store.Query{})
	if err != nil || len(recs) != 3 {
		t.Errorf("after prune: %d records, %v; want 3", len(recs), err)
	}
}
