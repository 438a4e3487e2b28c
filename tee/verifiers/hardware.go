package verifiers

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/google/go-sev-guest/client"

	"github.com/hallmark-dev/hallmark/tee"
	"github.com/hallmark-dev/hallmark/tee/sevsnp"
	"github.com/hallmark-dev/hallmark/tee/tpm"
)

// ErrNoTEE says the requested TEE is not available on this machine.
var ErrNoTEE = errors.New("no TEE of that kind on this machine")

// OpenHardware opens the machine's TEE. SEV-SNP guests are reached
// through go-sev-guest's quote provider (configfs-tsm or /dev/sev-guest)
// and verified against AMD's roots. A TPM is reached at /dev/tpmrm0 (or
// /dev/tpm0) and quoted with its ECC attestation key; the fresh quote is
// checked against that key, whose public half is written next to the
// attestation so verifiers can enrol it (`tee verify --tpm-ak`).
// Collection on TDX and Nitro is not wired in this build (their verifiers
// are: see `hallmark tee verify`).
func OpenHardware(_ context.Context, p tee.Platform) (tee.Collector, tee.Verifier, error) {
	switch p {
	case tee.TPM:
		var rw *os.File
		var err error
		for _, dev := range []string{"/dev/tpmrm0", "/dev/tpm0"} {
			if rw, err = os.OpenFile(dev, os.O_RDWR, 0); err == nil {
				break
			}
		}
		if rw == nil {
			return nil, nil, fmt.Errorf("%w: tpm: no TPM device (/dev/tpmrm0, /dev/tpm0): %v", ErrNoTEE, err)
		}
		c, err := tpm.NewCollector(rw)
		if err != nil {
			return nil, nil, err
		}
		return WithOwnAK(c)
	case tee.SEVSNP:
		qp, err := client.GetQuoteProvider()
		if err != nil || !qp.IsSupported() {
			return nil, nil, fmt.Errorf("%w: sev-snp: no SEV-SNP guest device (configfs-tsm or /dev/sev-guest)", ErrNoTEE)
		}
		c, err := sevsnp.NewCollector(qp)
		if err != nil {
			return nil, nil, err
		}
		v, err := sevsnp.New()
		if err != nil {
			return nil, nil, err
		}
		return c, v, nil
	default:
		return nil, nil, fmt.Errorf("%w: collecting %s evidence is not supported by this build (sev-snp and tpm are); verification is", ErrNoTEE, p)
	}
}

// WithOwnAK pairs a TPM collector with a verifier that trusts the
// collector's own attestation key: at build time the check is that the
// fresh quote is well formed and binds the provenance; trust in the AK is
// established by whoever verifies the attestation later.
func WithOwnAK(c *tpm.Collector) (tee.Collector, tee.Verifier, error) {
	ak, err := c.AKPublic()
	if err != nil {
		return nil, nil, err
	}
	v, err := tpm.New(tpm.WithTrustedAKs(ak))
	if err != nil {
		return nil, nil, err
	}
	return c, v, nil
}
