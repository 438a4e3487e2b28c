package tee

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/hallmark-dev/hallmark/internal/strictjson"
)

// PredicateType is the in-toto predicate type of a TEE attestation.
const PredicateType = "https://hallmark.dev/attestation/tee/v1"

// Predicate is the body of a TEE attestation: the raw evidence, the claims
// the producer verified, and the binding to a provenance envelope. Consumers
// re-verify Evidence and never trust Claims as stored.
//
//	{
//	  "platform": "sev-snp",
//	  "evidence": "<base64 of the platform evidence>",
//	  "claims": { ...Claims... },
//	  "binding": {
//	    "paeDigest": {"sha256": "<hex of SHA-256(DSSE PAE of the provenance)>"},
//	    "nonce": "<64 hex characters>"
//	  }
//	}
type Predicate struct {
	// Platform is the evidence platform.
	Platform Platform `json:"platform"`
	// Evidence is the platform evidence, base64 in JSON.
	Evidence []byte `json:"evidence"`
	// Claims are the claims the producer verified; informative only.
	Claims *Claims `json:"claims,omitempty"`
	// Binding names the provenance the quote binds.
	Binding PredicateBinding `json:"binding"`
}

// PredicateBinding records a [Binding] in a predicate.
type PredicateBinding struct {
	// PAEDigest is {"sha256": hex} of the provenance's DSSE PAE.
	PAEDigest map[string]string `json:"paeDigest"`
	// Nonce is the hex nonce half of the report data.
	Nonce string `json:"nonce"`
}

// NewPredicate records evidence, its verified claims and the binding.
func NewPredicate(claims *Claims, evidence []byte, b Binding) *Predicate {
	return &Predicate{
		Platform: claims.Platform,
		Evidence: bytes.Clone(evidence),
		Claims:   claims,
		Binding: PredicateBinding{
			PAEDigest: map[string]string{"sha256": hex.EncodeToString(b.PAEDigest[:])},
			Nonce:     hex.EncodeToString(b.Nonce[:]),
		},
	}
}

// ParsePredicate decodes a predicate of at most [MaxPredicate] bytes.
func ParsePredicate(data []byte) (*Predicate, error) {
	if err := CheckSize("", "predicate", len(data), MaxPredicate); err != nil {
		return nil, err
	}
	var p Predicate
	// Exact key case, no unknown or duplicate keys: the gate reads the
	// predicate as every other reader does.
	if err := strictjson.Decode(data, &p); err != nil {
		return nil, Errorf("", "predicate", ErrMalformed, "%v", err)
	}
	if _, err := ParsePlatform(string(p.Platform)); err != nil {
		return nil, &Error{Field: "predicate.platform", Err: err}
	}
	if len(p.Evidence) == 0 {
		return nil, Errorf(p.Platform, "predicate.evidence", ErrMalformed, "empty")
	}
	return &p, nil
}

// binding decodes the predicate's recorded binding.
func (p *Predicate) binding() (Binding, error) {
	var b Binding
	d, err := hex.DecodeString(p.Binding.PAEDigest["sha256"])
	if err != nil || len(d) != sha256.Size {
		return b, Errorf(p.Platform, "predicate.binding.paeDigest.sha256", ErrMalformed, "want 64 hex characters")
	}
	n, err := hex.DecodeString(p.Binding.Nonce)
	if err != nil || len(n) != NonceSize {
		return b, Errorf(p.Platform, "predicate.binding.nonce", ErrMalformed, "want 64 hex characters")
	}
	copy(b.PAEDigest[:], d)
	copy(b.Nonce[:], n)
	return b, nil
}

// VerifyPredicate re-verifies the predicate's evidence with the registry,
// checks that the quote's report data equals the recorded binding and that
// the binding names pae (the DSSE PAE of the provenance envelope the caller
// verified). opts.ReportData is set by this function.
func VerifyPredicate(ctx context.Context, r *Registry, p *Predicate, pae []byte, opts VerifyOptions) (*Claims, error) {
	b, err := p.binding()
	if err != nil {
		return nil, err
	}
	want := sha256.Sum256(pae)
	if b.PAEDigest != want {
		return nil, Errorf(p.Platform, "predicate.binding.paeDigest", ErrBinding, "records sha256:%x, provenance PAE is sha256:%x", b.PAEDigest, want)
	}
	opts.ReportData = b.Quoted(p.Platform)
	if p.Platform == TPM && opts.Nonce == nil {
		// The TPM quote's qualifying data is the (hashed) binding itself.
		opts.Nonce = b.Quoted(TPM)
	}
	claims, err := r.Verify(ctx, p.Platform, p.Evidence, opts)
	if err != nil {
		return nil, fmt.Errorf("verify %s evidence in TEE predicate: %w", p.Platform, err)
	}
	if err := CheckBinding(claims, b); err != nil {
		return nil, err
	}
	return claims, nil
}
