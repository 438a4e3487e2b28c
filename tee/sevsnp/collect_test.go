package sevsnp_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/google/go-sev-guest/abi"
	sevtest "github.com/google/go-sev-guest/testing"
	"github.com/google/go-sev-guest/verify/trust"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"

	"github.com/hallmark-dev/hallmark/tee"
	"github.com/hallmark-dev/hallmark/tee/sevsnp"
	"github.com/hallmark-dev/hallmark/tee/sevsnp/sevsnptest"
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
	if err := tee.CheckBinding(claims, b); err != nil {
		t.Errorf("binding: %v", err)
	}
	if err := tee.CheckBinding(claims, tee.Binding{PAEDigest: sha256.Sum256([]byte("other")), Nonce: b.Nonce}); !errors.Is(err, tee.ErrBinding) {
		t.Errorf("binding to another provenance: %v", err)
	}
	// The real AMD roots do not trust the fake device's chain.
	if _, err := mustNew(t).Verify(t.Context(), evidence, opts); !errors.Is(err, tee.ErrChain) {
		t.Errorf("fake chain under AMD roots: %v", err)
	}
}

// TestAttestWithFakeDevice runs tee.Attest (the `hallmark build --tee` path)
// on the fake device and re-verifies the predicate as a consumer would.
func TestAttestWithFakeDevice(t *testing.T) {
	dev := sevsnptest.NewDevice(t, teetest.Today)
	v := dev.Verifier(t)
	pae := dsse.PAE("application/vnd.in-toto+json", []byte(`{"predicateType":"https://slsa.dev/provenance/v1"}`))
	opts := tee.VerifyOptions{Time: teetest.Today.AddDate(0, 0, 1), AllowDebugUnsafe: true}
	pred, err := tee.Attest(t.Context(), dev, v, pae, opts)
	if err != nil {
		t.Fatalf("Attest: %v", err)
	}
	data, err := json.Marshal(pred)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := tee.ParsePredicate(data)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := tee.NewRegistry(v)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tee.VerifyPredicate(t.Context(), reg, parsed, pae, opts); err != nil {
		t.Fatalf("VerifyPredicate: %v", err)
	}
	if _, err := tee.VerifyPredicate(t.Context(), reg, parsed, append(pae, ' '), opts); !errors.Is(err, tee.ErrBinding) {
		t.Errorf("predicate checked against another provenance: %v", err)
	}
	if _, err := tee.Attest(t.Context(), dev, mustNew(t), pae, opts); !errors.Is(err, tee.ErrChain) {
		t.Errorf("Attest verifying the fake chain under AMD roots: %v", err)
	}
}

func TestCachedCRL(t *testing.T) {
	signer, err := sevtest.DefaultTestOnlyCertChain(sevtest.GetProductName(), teetest.Today)
	if err != nil {
		t.Fatal(err)
	}
	roots := map[string][]*trust.AMDRootCerts{"Milan": {{
		ProductLine:  "Milan",
		ProductCerts: &trust.ProductCerts{Ask: signer.Ask, Ark: signer.Ark},
	}}}
	var rd [tee.ReportDataSize]byte
	evidence, err := sevsnptest.Device{Signer: signer}.Collect(t.Context(), rd)
	if err != nil {
		t.Fatal(err)
	}
	at := teetest.Today.AddDate(0, 0, 1)
	crl := func(t *testing.T, revoked bool, next time.Time, key crypto.Signer) []byte {
		t.Helper()
		tmpl := &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: teetest.Today, NextUpdate: next}
		if revoked {
			tmpl.RevokedCertificateEntries = []x509.RevocationListEntry{{SerialNumber: signer.Ask.SerialNumber, RevocationTime: teetest.Today}}
		}
		der, err := x509.CreateRevocationList(rand.Reader, tmpl, signer.Ark, key)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	week := teetest.Today.AddDate(0, 0, 7)
	tests := []struct {
		name      string
		crl       func(t *testing.T) []byte
		wantErr   error
		wantField string
		wantMsg   string
	}{
		{name: "current CRL, ASK not revoked", crl: func(t *testing.T) []byte { return crl(t, false, week, signer.Keys.Ark) }},
		{name: "ASK revoked", crl: func(t *testing.T) []byte { return crl(t, true, week, signer.Keys.Ark) }, wantErr: tee.ErrChain, wantField: "crl", wantMsg: "ASK was revoked"},
		{name: "CRL past next update", crl: func(t *testing.T) []byte { return crl(t, false, at.Add(-time.Hour), signer.Keys.Ark) }, wantErr: tee.ErrExpired, wantField: "crl"},
		{name: "CRL not signed by the ARK", crl: func(t *testing.T) []byte { return crl(t, false, week, otherKey) }, wantErr: tee.ErrChain, wantField: "crl", wantMsg: "not signed by ARK"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := mustNew(t, sevsnp.WithTrustedRootsUnsafe(roots), sevsnp.WithCRL(tc.crl(t)))
			_, err := v.Verify(t.Context(), evidence, tee.VerifyOptions{Time: at, AllowDebugUnsafe: true})
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			te, ok := errors.AsType[*tee.Error](err)
			if !errors.Is(err, tc.wantErr) || !ok || te.Field != tc.wantField || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("Verify = %v, want %v on field %q mentioning %q", err, tc.wantErr, tc.wantField, tc.wantMsg)
			}
		})
	}
}
