package cli

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"path/filepath"

	"github.com/hallmark-dev/hallmark/tee"
)

// TEEOpener opens the collector and verifier of a TEE platform on this
// machine. App.OpenTEE defaults to verifiers.OpenHardware; tests inject fakes.
type TEEOpener func(ctx context.Context, p tee.Platform) (tee.Collector, tee.Verifier, error)

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
