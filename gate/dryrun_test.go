package gate_test

import (
	"testing"

	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/store"
)

// TestDryRunRecordsNothing: a dry run decides as a real request does
// (deny, then allow once approved) but stores no VSA and no decision, and
// its Result carries no records.
func TestDryRunRecordsNothing(t *testing.T) {
	f := newFixture(t)
	dry := func() *gate.Result {
		t.Helper()
		res, err := f.g.Evaluate(t.Context(), gate.Request{Artifact: policy.Artifact{Digest: f.digest, Name: "app"}, Environment: "prod", Requester: "ci", Source: "admission", DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		if res.VSA.ID != "" || res.Record.ID != "" {
			t.Errorf("dry run returned records: VSA %q, decision %q", res.VSA.ID, res.Record.ID)
		}
		return res
	}
	if res := dry(); res.Decision.Allow || len(res.Decision.Violations) == 0 {
		t.Fatalf("dry run without approvals: %+v", res.Decision)
	}
	f.approve(t, f.alice, "prod", f.art)
	f.approve(t, f.bob, "prod", f.art)
	if res := dry(); !res.Decision.Allow {
		t.Fatalf("dry run with two approvals denied: %+v", res.Decision.Violations)
	}
	for _, pt := range []string{gate.VSAPredicateType, gate.DecisionPredicateType} {
		recs, err := f.st.List(t.Context(), store.Query{PredicateType: pt})
		if err != nil || len(recs) != 0 {
			t.Errorf("after dry runs: %d records of %s, %v; want none", len(recs), pt, err)
		}
	}
	if res := f.evaluate(t); !res.Decision.Allow || res.VSA.ID == "" || res.Record.ID == "" {
		t.Errorf("real request after dry runs: allow %v, VSA %q, decision %q", res.Decision.Allow, res.VSA.ID, res.Record.ID)
	}
}
