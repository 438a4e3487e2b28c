// Package sevsnptest provides go-sev-guest's fake AMD secure processor as a
// tee.Collector, with the verifier that trusts its throwaway AMD chain, for
// tests of code that collects or re-verifies SEV-SNP evidence.
package sevsnptest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-sev-guest/abi"
	sevtest "github.com/google/go-sev-guest/testing"
	"github.com/google/go-sev-guest/verify/trust"

	"github.com/hallmark-dev/hallmark/tee"
	"github.com/hallmark-dev/hallmark/tee/sevsnp"
)

// Device is a fake SEV-SNP guest device. The fake answers only report data
// it was told about in advance, so each Collect builds a fresh one; the
// throwaway AMD signer stays the same so its roots can be trusted upfront.
type Device struct {
	Signer *sevtest.AmdSigner
}

var _ tee.Collector = Device{}

// NewDevice makes a fake device whose certificates are valid at now.
func NewDevice(t testing.TB, now time.Time) Device {
	t.Helper()
	s, err := sevtest.DefaultTestOnlyCertChain(sevtest.GetProductName(), now)
	if err != nil {
		t.Fatalf("fake AMD signer: %v", err)
	}
	return Device{Signer: s}
}

// Platform returns tee.SEVSNP.
func (Device) Platform() tee.Platform { return tee.SEVSNP }

// Collect returns a report signed by the fake device carrying rd.
func (d Device) Collect(ctx context.Context, rd [tee.ReportDataSize]byte) ([]byte, error) {
	qp, err := sevtest.TcQuoteProvider([]sevtest.TestCase{{Name: "collect", Input: rd, Output: sevtest.TestRawReport(rd)}},
		&sevtest.DeviceOptions{Signer: d.Signer, Product: abi.DefaultSevProduct()})
	if err != nil {
		return nil, err
	}
	c, err := sevsnp.NewCollector(qp)
	if err != nil {
		return nil, err
	}
	return c.Collect(ctx, rd)
}

// Verifier returns an SEV-SNP verifier that trusts the fake device's ARK
// and ASK instead of AMD's.
func (d Device) Verifier(t testing.TB) *sevsnp.Verifier {
	t.Helper()
	v, err := sevsnp.New(sevsnp.WithTrustedRootsUnsafe(map[string][]*trust.AMDRootCerts{"Milan": {{
		ProductLine: "Milan", ProductCerts: &trust.ProductCerts{Ask: d.Signer.Ask, Ark: d.Signer.Ark},
	}}}))
	if err != nil {
		t.Fatalf("verifier for the fake device: %v", err)
	}
	return v
}
