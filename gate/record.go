package gate

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/hallmark-dev/hallmark/attest"
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
