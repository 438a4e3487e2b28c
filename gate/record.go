package gate

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/trust"
)

// ErrNotGateSigned is wrapped by errors about a VSA or deployment decision
// that no key with the trust file's gate role signed: anyone else's claim
// about what the gate decided is not a record of the gate.
var ErrNotGateSigned = errors.New("not signed by a key with the gate role")

// RecordPredicateTypes lists the predicate types only the gate writes (its
// VSAs and deployment decisions); only a gate-role key may sign them.
func RecordPredicateTypes() []string {
	return []string{VSAPredicateType, DecisionPredicateType}
}

// CheckRecordSigner returns an error wrapping ErrNotGateSigned when v is a
// VSA or deployment decision and none of its signers holds trust.RoleGate
// in tr. Evidence of other predicate types passes.
func CheckRecordSigner(v *attest.Verified, tr *trust.Trust) error {
	if !slices.Contains(RecordPredicateTypes(), v.PredicateType) {
		return nil
	}
	for _, id := range v.SignerIDs() {
		if tr.Has(id, trust.RoleGate) {
			return nil
		}
	}
	return fmt.Errorf("%w: %s %s is signed by %v, none of which the trust file gives role %q",
		ErrNotGateSigned, v.PredicateType, v.ID, v.SignerIDs(), trust.RoleGate)
}

// ReadDecision verifies a stored deployment-decision bundle against the
// trust file and returns its decision. A bundle that does not verify, is not
// a decision, or is not signed by a gate-role key is an error: stored
// evidence is checked again when read, so a decision uploaded under any
// other key never counts as one the gate made.
func ReadDecision(ctx context.Context, raw []byte, tr *trust.Trust) (Decision, error) {
	v, err := attest.Verify(ctx, raw, tr.All(), attest.WithInputName("stored decision"))
	if err != nil {
		return Decision{}, err
	}
	if v.PredicateType != DecisionPredicateType {
		return Decision{}, fmt.Errorf("decision %s: predicate type %s, want %s", v.ID, v.PredicateType, DecisionPredicateType)
	}
	if err := CheckRecordSigner(v, tr); err != nil {
		return Decision{}, err
	}
	var d Decision
	if err := v.DecodePredicate(&d); err != nil {
		return Decision{}, fmt.Errorf("decision %s: %w", v.ID, err)
	}
	return d, nil
}

// ErrNotDecision is wrapped by VSAIssuer.Issue's error when the record it
// is asked about is not a deployment decision.
var ErrNotDecision = errors.New("not a deployment decision")

// VSAIssuer issues the VSAs of recorded deployment decisions. It needs no
// policy: everything a VSA says is in the decision (newVSA).
type VSAIssuer struct {
	Store store.Store
	Trust *trust.Trust
	// Key signs the VSAs it derives; VerifierID names the verifier in them.
	Key        *keys.PrivateKey
	VerifierID string
}

// VSAIssuer returns the issuer over the gate's store, trust file and key.
func (g *Gate) VSAIssuer() VSAIssuer {
	return VSAIssuer{Store: g.store, Trust: g.trust, Key: g.signer, VerifierID: g.verifierID}
}

// Issue returns a signed VSA of the recorded deployment decision
// decisionID. The decision is read back from the store and verified against
// the trust file as any stored decision is (ReadDecision). When a VSA was
// signed with the decision, that stored VSA is returned, verified again;
// otherwise one is derived from the decision, signed with Key and returned,
// not stored: the decision stays the record, and issuing again says the
// same.
func (is VSAIssuer) Issue(ctx context.Context, decisionID string) (*attest.Verified, error) {
	rec, err := is.Store.Get(ctx, decisionID)
	if err != nil {
		return nil, fmt.Errorf("decision %s: %w", decisionID, err)
	}
	if rec.PredicateType != DecisionPredicateType {
		return nil, fmt.Errorf("record %s: %w (its predicate type is %s)", decisionID, ErrNotDecision, rec.PredicateType)
	}
	d, err := ReadDecision(ctx, rec.Bundle, is.Trust)
	if err != nil {
		return nil, fmt.Errorf("decision %s: %w", decisionID, err)
	}
	if d.VSA == "" {
		return is.sign(ctx, d)
	}
	vrec, err := is.Store.Get(ctx, d.VSA)
	if err != nil {
		return nil, fmt.Errorf("VSA %s of decision %s: %w", d.VSA, decisionID, err)
	}
	v, err := attest.Verify(ctx, vrec.Bundle, is.Trust.All(), attest.WithInputName("stored VSA"))
	if err != nil {
		return nil, fmt.Errorf("VSA %s of decision %s: %w", d.VSA, decisionID, err)
	}
	if v.PredicateType != VSAPredicateType {
		return nil, fmt.Errorf("VSA %s of decision %s: predicate type %s, want %s", d.VSA, decisionID, v.PredicateType, VSAPredicateType)
	}
	if err := CheckRecordSigner(v, is.Trust); err != nil {
		return nil, err
	}
	return v, nil
}

// sign signs the VSA derived from decision d.
func (is VSAIssuer) sign(ctx context.Context, d Decision) (*attest.Verified, error) {
	verifierID := is.VerifierID
	if verifierID == "" {
		verifierID = DefaultVerifierID
	}
	return attest.SignPredicate(ctx, is.Key, []attest.Subject{decisionSubject(d)}, VSAPredicateType, newVSA(verifierID, d))
}
