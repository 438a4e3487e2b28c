package sevsnp_test

import (
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/google/go-sev-guest/abi"
	sevtest "github.com/google/go-sev-guest/testing"
	"github.com/google/go-sev-guest/verify/trust"

	"github.com/hallmark-dev/hallmark/tee"
	"github.com/hallmark-dev/hallmark/tee/sevsnp"
	"github.com/hallmark-dev/hallmark/tee/teetest"
)

// TestCollectWithFakeDevice collects a report from go-sev-guest's fake
// AMD-SP (which signs with a throwaway ARK/ASK/VCEK), verifies it against
// those roots and checks the binding. The fake's guest policy has the debug
// bit set, so debug is allowed here.
func TestCollectWithFakeDevice(t *testing.T) {
	b := tee.NewBinding("application/vnd.in-toto+json", []byte(`{"predicateType":"https://slsa.dev/provenance/v1"}`), [tee.NonceSize]byte{9})
	rd := b.ReportData()
	qp, err := sevtest.TcQuoteProvider([]sevtest.TestCase{{Name: "binding", Input: rd, Output: sevtest.TestRawReport(rd)}},
		&sevtest.DeviceOptions{Now: teetest.Today, Product: abi.DefaultSevProduct()})
	if err != nil {
		t.Fatal(err)
	}
	c, err := sevsnp.NewCollector(qp)
	if err != nil {
		t.Fatal(err)
	}
	evidence, err := c.Collect(t.Context(), rd)
	if err != nil {
		t.Fatal(err)
	}
	fakeRoots := map[string][]*trust.AMDRootCerts{"Milan": {{
		ProductLine:  "Milan",
		ProductCerts: &trust.ProductCerts{Ask: qp.Device.Signer.Ask, Ark: qp.Device.Signer.Ark},
	}}}
	v := mustNew(t, sevsnp.WithTrustedRootsUnsafe(fakeRoots))
	opts := tee.VerifyOptions{Time: teetest.Today.AddDate(0, 0, 1), AllowDebugUnsafe: true, ReportData: rd[:]}
	claims, err := v.Verify(t.Context(), evidence, opts)
	if err != nil {
		t.Fatalf("verify fake-device evidence: %v", err)
	}
	if _, err := tee.CheckBinding(claims, b.PAEDigest); err != nil {
		t.Errorf("binding: %v", err)
	}
	if _, err := tee.CheckBinding(claims, sha256.Sum256([]byte("other"))); !errors.Is(err, tee.ErrBinding) {
		t.Errorf("binding to another provenance: %v", err)
	}
	// The real AMD roots do not trust the fake device's chain.
	if _, err := mustNew(t).Verify(t.Context(), evidence, opts); !errors.Is(err, tee.ErrChain) {
		t.Errorf("fake chain under AMD roots: %v", err)
	}
}
