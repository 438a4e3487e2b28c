package cli

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/go-sev-guest/client"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/keys"
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

// attestTEE binds a quote from the machine's TEE to the provenance just
// signed: the quote's report data carries SHA-256 of the provenance's DSSE
// PAE and a nonce. The TEE attestation has the provenance's subjects, is
// signed with the same key and stored. mode is auto (try SEV-SNP, record
// nothing when there is no TEE) or a platform name (required).
func (a *App) attestTEE(ctx context.Context, mode string, key *keys.PrivateKey, provBundle []byte, outDir string) error {
	v, err := attest.Verify(ctx, provBundle, attest.NewKeySet(key.Public()))
	if err != nil {
		return environmentErr(err)
	}
	open := a.OpenTEE
	if open == nil {
		open = openHardwareTEE
	}
	platforms := []tee.Platform{}
	if mode == "auto" {
		platforms = append(platforms, tee.SEVSNP, tee.TPM)
	} else {
		p, err := tee.ParsePlatform(mode)
		if err != nil {
			return usageError(fmt.Errorf("--tee %q: %w", mode, err))
		}
		platforms = append(platforms, p)
	}
	var c tee.Collector
	var ver tee.Verifier
	for _, p := range platforms {
		c, ver, err = open(ctx, p)
		if err == nil {
			break
		}
	}
	if c == nil {
		if mode == "auto" {
			fmt.Fprintf(a.Stderr, "no TEE found (--tee auto): no TEE attestation recorded (%v)\n", err)
			return nil
		}
		return environmentErr(fmt.Errorf("--tee %s: %w", mode, err))
	}
	// Debug guests are attested as such (claims.debug); policy decides.
	pred, err := tee.Attest(ctx, c, ver, v.PAE(), tee.VerifyOptions{Time: a.Now(), AllowDebugUnsafe: true})
	if err != nil {
		return environmentErr(err)
	}
	b, err := json.Marshal(pred)
	if err != nil {
		return environmentErr(err)
	}
	st, err := attest.NewStatement(v.Subjects(), tee.PredicateType, b)
	if err != nil {
		return environmentErr(err)
	}
	rec, bundle, err := a.signAndStore(ctx, key, st)
	if err != nil {
		return err
	}
	out := filepath.Join(outDir, "tee.bundle.json")
	if err := a.writeOutput(out, bundle); err != nil {
		return err
	}
	fmt.Fprintf(a.Stderr, "bound a %s quote to the provenance: %s\nstored %s\n", pred.Platform, out, rec.ID)
	return a.writeAK(c, outDir)
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
