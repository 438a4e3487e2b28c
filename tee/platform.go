package tee

import "fmt"

// Platform names a TEE evidence format.
type Platform string

// The platforms Hallmark verifies.
const (
	// SEVSNP is an AMD SEV-SNP attestation report signed by the chip's VCEK.
	SEVSNP Platform = "sev-snp"
	// TDX is an Intel TDX v4 quote signed by the quoting enclave and the PCK chain.
	TDX Platform = "tdx"
	// TPM is a TPM 2.0 quote with its event log, as produced by go-tpm-tools.
	TPM Platform = "tpm"
	// Nitro is an AWS Nitro Enclaves attestation document (COSE_Sign1 over CBOR).
	Nitro Platform = "nitro"
)

// Platforms lists every known platform in a stable order.
func Platforms() []Platform { return []Platform{SEVSNP, TDX, TPM, Nitro} }

// ParsePlatform returns the platform named s, or an error wrapping
// ErrUnknownPlatform.
func ParsePlatform(s string) (Platform, error) {
	for _, p := range Platforms() {
		if string(p) == s {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: %q (want one of sev-snp, tdx, tpm, nitro)", ErrUnknownPlatform, s)
}
