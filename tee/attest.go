package tee

import (
	"context"
	"crypto/rand"
	"fmt"
)

// Attest is the collection path of `hallmark build --tee`: it binds the
// provenance whose DSSE pre-authentication encoding is pae with a fresh
// random nonce, collects evidence carrying that binding, verifies it with v
// (so a quote that would not verify is never stored) and returns the
// predicate to sign next to the provenance. opts.ReportData is set here.
func Attest(ctx context.Context, c Collector, v Verifier, pae []byte, opts VerifyOptions) (*Predicate, error) {
	if c == nil || v == nil {
		return nil, fmt.Errorf("tee: Attest needs a collector and a verifier")
	}
	if c.Platform() != v.Platform() {
		return nil, fmt.Errorf("tee: collector for %s, verifier for %s", c.Platform(), v.Platform())
	}
	var nonce [NonceSize]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, fmt.Errorf("tee: nonce: %w", err)
	}
	b := BindingFromPAE(pae, nonce)
	rd := b.ReportData()
	evidence, err := c.Collect(ctx, rd)
	if err != nil {
		return nil, fmt.Errorf("tee: collect %s evidence: %w", c.Platform(), err)
	}
	opts.ReportData = b.Quoted(c.Platform())
	if c.Platform() == TPM {
		opts.Nonce = opts.ReportData
	}
	claims, err := v.Verify(ctx, evidence, opts)
	if err != nil {
		return nil, fmt.Errorf("tee: freshly collected evidence does not verify: %w", err)
	}
	return NewPredicate(claims, evidence, b), nil
}
