package cli

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/go-sev-guest/client"

	"github.com/hallmark-dev/hallmark/tee"
	"github.com/hallmark-dev/hallmark/tee/sevsnp"
	"github.com/hallmark-dev/hallmark/tee/tpm"
)

// TEEOpener opens the collector and verifier of a TEE platform on this
// machine. App.OpenTEE defaults to openHardwareTEE; tests inject fakes.
type TEEOpener func(ctx context.Context, p tee.Platform) (tee.Collector, tee.Verifier, error)

// errNoTEE says the requested TEE is not available on this machine.
var errNoTEE = errors.New("no TEE of that kind on this machine")

// openHardwareTEE opens the machine's TEE. SEV-SNP guests are reached
// through go-sev-guest's quote provider (configfs-tsm or /dev/sev-guest)
// and verified against AMD's roots. A TPM is reached at /dev/tpmrm0 (or
// /dev/tpm0) and quoted with its ECC attestation key; the fresh quote is
// checked against that key, whose public half is written next to the
// attestation so verifiers can enrol it (`tee verify --tpm-ak`).
// Collection on TDX and Nitro is not wired in this build (their verifiers
// are: see `hallmark tee verify`).
func openHardwareTEE(_ context.Context, p tee.Platform) (tee.Collector, tee.Verifier, error) {
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
			return nil, nil, fmt.Errorf("%w: tpm: no TPM device (/dev/tpmrm0, /dev/tpm0): %v", errNoTEE, err)
		}
		c, err := tpm.NewCollector(rw)
		if err != nil {
			return nil, nil, err
		}
		return tpmWithOwnAK(c)
	case tee.SEVSNP:
		qp, err := client.GetQuoteProvider()
		if err != nil || !qp.IsSupported() {
			return nil, nil, fmt.Errorf("%w: sev-snp: no SEV-SNP guest device (configfs-tsm or /dev/sev-guest)", errNoTEE)
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
		return nil, nil, fmt.Errorf("%w: collecting %s evidence is not supported by this build (sev-snp and tpm are); verification is", errNoTEE, p)
	}
}

// tpmWithOwnAK pairs a TPM collector with a verifier that trusts the
// collector's own attestation key: at build time the check is that the
// fresh quote is well formed and binds the provenance; trust in the AK is
// established by whoever verifies the attestation later.
func tpmWithOwnAK(c *tpm.Collector) (tee.Collector, tee.Verifier, error) {
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

// akPublisher is a collector that can name its attestation key.
type akPublisher interface {
	AKPublic() (crypto.PublicKey, error)
}

// writeAK writes the collector's attestation key as PEM next to the TEE
// attestation, for enrolment with verifiers.
func (a *App) writeAK(c tee.Collector, outDir string) error {
	p, ok := c.(akPublisher)
	if !ok {
		return nil
	}
	ak, err := p.AKPublic()
	if err != nil {
		return environmentErr(err)
	}
	der, err := x509.MarshalPKIXPublicKey(ak)
	if err != nil {
		return environmentErr(err)
	}
	path := filepath.Join(outDir, "tpm-ak.pub")
	if err := a.writeOutput(path, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})); err != nil {
		return err
	}
	fmt.Fprintf(a.Stderr, "TPM attestation key: %s (enrol it with verifiers: hallmark tee verify --tpm-ak)\n", path)
	return nil
}
