package tee

// Size limits on untrusted input. Each platform decoder rejects larger
// evidence with ErrTooLarge before parsing.
const (
	// MaxSEVSNPEvidence bounds an SEV-SNP report plus its certificate table.
	MaxSEVSNPEvidence = 64 << 10
	// MaxTDXEvidence bounds a TDX quote with its embedded PCK chain.
	MaxTDXEvidence = 64 << 10
	// MaxTPMEvidence bounds a TPM attestation including its event logs.
	MaxTPMEvidence = 4 << 20
	// MaxNitroEvidence bounds a Nitro attestation document (raw or base64).
	MaxNitroEvidence = 64 << 10
	// MaxReferenceValues bounds a reference-values JSON file.
	MaxReferenceValues = 1 << 20
	// MaxPredicate bounds a TEE attestation predicate (evidence is base64 inside).
	MaxPredicate = 8 << 20
)

// CheckSize returns an [*Error] wrapping ErrTooLarge when n exceeds limit.
func CheckSize(p Platform, field string, n, limit int) error {
	if n > limit {
		return Errorf(p, field, ErrTooLarge, "%d bytes exceeds the %d-byte limit", n, limit)
	}
	return nil
}
