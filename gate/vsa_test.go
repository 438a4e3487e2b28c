package gate_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/store"
)

// admit evaluates as an admission review does: no VSA asked for.
func (f *fixture) admit(t *testing.T) *gate.Result {
	t.Helper()
	res, err := f.g.Evaluate(t.Context(), gate.Request{Artifact: policy.Artifact{Digest: f.digest, Name: "app"}, Environment: "prod",
		Requester: "kubernetes", Source: gate.AdmissionSource, Workload: &gate.Workload{Namespace: "shop", Kind: "Pod", Name: "app"}})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestAdmissionRecordsOneSignedRecord: a request without Request.VSA
// signs and stores the decision alone.
func TestAdmissionRecordsOneSignedRecord(t *testing.T) {
	f := newFixture(t)
	f.approve(t, f.alice, "prod", f.art)
	f.approve(t, f.bob, "prod", f.art)
	res := f.admit(t)
	if !res.Decision.Allow || res.Record.ID == "" || res.VSA.ID != "" {
		t.Fatalf("allow %v, decision %q, VSA %q; want an allow recorded without a VSA", res.Decision.Allow, res.Record.ID, res.VSA.ID)
	}
	vsas, _ := f.st.List(t.Context(), store.Query{PredicateType: gate.VSAPredicateType})
	decs, _ := f.st.List(t.Context(), store.Query{PredicateType: gate.DecisionPredicateType})
	if len(vsas) != 0 || len(decs) != 1 {
		t.Fatalf("%d VSAs and %d decisions stored, want 0 and 1", len(vsas), len(decs))
	}
	d, err := gate.ReadDecision(t.Context(), decs[0].Bundle, f.trust)
	if err != nil || d.VSA != "" || !d.Allowed {
		t.Fatalf("stored decision %+v, %v", d, err)
	}
}

// TestIssuedVSASaysWhatASignedOneSays: the VSA issued for a decision
// recorded alone is the statement the gate would have signed with it, byte
// for byte, and verifies as a gate-signed VSA.
func TestIssuedVSASaysWhatASignedOneSays(t *testing.T) {
	f := newFixture(t)
	f.approve(t, f.alice, "prod", f.art)
	f.approve(t, f.bob, "prod", f.art)
	withVSA := f.evaluate(t) // VSA: true, at the fixture's fixed clock
	alone := f.admit(t)
	issued, err := f.g.VSAIssuer().Issue(t.Context(), alone.Record.ID)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := attest.Verify(t.Context(), withVSA.VSA.Bundle, f.trust.All())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(issued.Payload, signed.Payload) {
		t.Errorf("issued VSA statement differs from the one signed with a decision:\n%s\n%s", issued.Payload, signed.Payload)
	}
	v, err := attest.Verify(t.Context(), issued.Raw, f.trust.All())
	if err != nil {
		t.Fatalf("issued VSA does not verify: %v", err)
	}
	if err := gate.CheckRecordSigner(v, f.trust); err != nil || v.PredicateType != gate.VSAPredicateType {
		t.Errorf("issued VSA: type %s, signer check %v", v.PredicateType, err)
	}
	if n, _ := f.st.List(t.Context(), store.Query{PredicateType: gate.VSAPredicateType}); len(n) != 1 {
		t.Errorf("%d VSAs stored after issuing one, want the 1 signed with a decision: issuing stores nothing", len(n))
	}
	// A decision recorded with its VSA gets that VSA back.
	again, err := f.g.VSAIssuer().Issue(t.Context(), withVSA.Record.ID)
	if err != nil || again.ID != withVSA.VSA.ID {
		t.Errorf("VSA of a decision recorded with one: %v %v, want the stored %s", again, err, withVSA.VSA.ID)
	}
}

// TestIssueVSARefuses: no VSA for what is not a decision the gate signed.
func TestIssueVSARefuses(t *testing.T) {
	f := newFixture(t)
	f.approve(t, f.alice, "prod", f.art)
	approvals, _ := f.st.List(t.Context(), store.Query{PredicateType: gate.ApprovalPredicateType})
	forged := attesttest.Verified(t, f.alice, gate.DecisionPredicateType, gate.Decision{Artifact: policy.Artifact{Digest: f.digest}, Environment: "prod", Allowed: true, DecidedAt: now}, f.art)
	if _, err := f.st.Put(t.Context(), forged); err != nil {
		t.Fatal(err)
	}
	is := f.g.VSAIssuer()
	for _, tc := range []struct {
		name, id string
		want     error
	}{
		{"unknown", "sha256:" + "00000000000000000000000000000000000000000000000000000000000000aa", store.ErrNotFound},
		{"an approval", approvals[0].ID, gate.ErrNotDecision},
		{"a decision an approver signed", forged.ID, gate.ErrNotGateSigned},
	} {
		if v, err := is.Issue(t.Context(), tc.id); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, %v; want %v", tc.name, v, err, tc.want)
		}
	}
}
