package verifiers

import (
	"fmt"

	"github.com/hallmark-dev/hallmark/tee"
	"github.com/hallmark-dev/hallmark/tee/nitro"
	"github.com/hallmark-dev/hallmark/tee/sevsnp"
	"github.com/hallmark-dev/hallmark/tee/tdx"
	"github.com/hallmark-dev/hallmark/tee/tpm"
)

// Config selects and configures the platforms of a registry. SEV-SNP and
// Nitro are always verified (against AMD's bundled roots and the pinned AWS
// root); TDX and TPM only when enabled, since they need material from the
// caller to mean anything offline.
type Config struct {
	// SEVSNP configures the SEV-SNP verifier (cached VCEKs, a CRL).
	SEVSNP []sevsnp.Option
	// TDX enables the TDX verifier; it needs tdx.WithCollateral (or
	// tdx.WithoutCollateralUnsafe).
	TDX bool
	// TDXOptions configure it.
	TDXOptions []tdx.Option
	// TPM enables the TPM verifier (the GCE attestation-key roots unless
	// tpm.WithTrustedAKs names others).
	TPM bool
	// TPMOptions configure it.
	TPMOptions []tpm.Option
}

// New builds the registry cfg describes.
func New(cfg Config) (*tee.Registry, error) {
	snp, err := sevsnp.New(cfg.SEVSNP...)
	if err != nil {
		return nil, fmt.Errorf("sev-snp verifier: %w", err)
	}
	vs := []tee.Verifier{snp}
	if cfg.TDX {
		td, err := tdx.New(cfg.TDXOptions...)
		if err != nil {
			return nil, fmt.Errorf("tdx verifier: %w", err)
		}
		vs = append(vs, td)
	}
	if cfg.TPM {
		tp, err := tpm.New(cfg.TPMOptions...)
		if err != nil {
			return nil, fmt.Errorf("tpm verifier: %w", err)
		}
		vs = append(vs, tp)
	}
	ni, err := nitro.New()
	if err != nil {
		return nil, fmt.Errorf("nitro verifier: %w", err)
	}
	vs = append(vs, ni)
	return tee.NewRegistry(vs...)
}

// Offline is the registry the gate verifies TEE attestations with when it
// is given nothing else: SEV-SNP against AMD's bundled roots and Nitro
// against the pinned AWS root, with no network. TDX needs cached Intel
// collateral and TPM quotes need their attestation keys' roots; evidence of
// those platforms is listed by the gate as ignored.
func Offline() (*tee.Registry, error) {
	return New(Config{})
}
