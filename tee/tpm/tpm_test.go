package tpm_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-tpm/legacy/tpm2"

	"github.com/hallmark-dev/hallmark/tee"
	"github.com/hallmark-dev/hallmark/tee/teetest"
	"github.com/hallmark-dev/hallmark/tee/tpm"
)

func mustNew(t testing.TB, opts ...tpm.Option) *tpm.Verifier {
	t.Helper()
	v, err := tpm.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestVerifySample(t *testing.T) {
	v := mustNew(t)
	att := teetest.TPMAttestation()
	nonce := teetest.TPMNonce()
	tests := []struct {
		name      string
		verifier  *tpm.Verifier
		opts      tee.VerifyOptions
		wantErr   error
		wantField string
	}{
		{name: "GCE sample at capture", verifier: v, opts: tee.VerifyOptions{Time: teetest.TPMAt, Nonce: nonce}},
		{name: "GCE sample still valid today", verifier: v, opts: tee.VerifyOptions{Time: teetest.Today, Nonce: nonce}},
		{name: "SHA-384 bank", verifier: mustNew(t, tpm.WithPCRBank(tpm2.AlgSHA384)), opts: tee.VerifyOptions{Time: teetest.TPMAt, Nonce: nonce}},
		{name: "wrong nonce", verifier: v, opts: tee.VerifyOptions{Time: teetest.TPMAt, Nonce: []byte{0x90, 0x0a}}, wantErr: tee.ErrNonce, wantField: "nonce"},
		{name: "nonce required", verifier: v, opts: tee.VerifyOptions{Time: teetest.TPMAt}, wantErr: tee.ErrOptions, wantField: "nonce"},
		{name: "AK certificate not yet valid", verifier: v, opts: tee.VerifyOptions{Time: teetest.TPMAt.AddDate(-1, 0, 0), Nonce: nonce}, wantErr: tee.ErrExpired, wantField: "ak_cert"},
		{name: "AK certificate expired after 2051", verifier: v, opts: tee.VerifyOptions{Time: teetest.Today.AddDate(30, 0, 0), Nonce: nonce}, wantErr: tee.ErrExpired, wantField: "ak_cert"},
		{name: "untrusted root", verifier: mustNew(t, tpm.WithTrustedRoots(mustSelfSigned(t), nil)), opts: tee.VerifyOptions{Time: teetest.TPMAt, Nonce: nonce}, wantErr: tee.ErrChain, wantField: "ak_cert"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			claims, err := tc.verifier.Verify(t.Context(), att, tc.opts)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Verify error = %v, want %v", err, tc.wantErr)
				}
				te, ok := errors.AsType[*tee.Error](err)
				if !ok || te.Platform != tee.TPM || te.Field != tc.wantField {
					t.Fatalf("error %v: want platform tpm, field %q", err, tc.wantField)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if len(claims.Measurements) != 24 {
				t.Errorf("%d PCRs, want 24", len(claims.Measurements))
			}
			if !bytes.Equal(claims.Nonce, nonce) || !bytes.Equal(claims.ReportData, nonce) {
				t.Errorf("nonce %x report data %x", claims.Nonce, claims.ReportData)
			}
			// The GCE COS 85 sample: a Confidential VM (AMD SEV) with Secure Boot
			// state and a non-empty event log, as go-tpm-tools replays it.
			if claims.Attributes["confidential_technology"] != "AMD_SEV" || claims.Attributes["secure_boot"] == "" || claims.Attributes["event_log_events"] == "0" {
				t.Errorf("attributes %v", claims.Attributes)
			}
			if claims.Debug || len(claims.Signer.Chain) < 2 {
				t.Errorf("debug %v signer %+v", claims.Debug, claims.Signer)
			}
		})
	}
}

func TestNewRejectsTwoTrustMechanisms(t *testing.T) {
	roots := mustSelfSigned(t)
	if _, err := tpm.New(tpm.WithTrustedRoots(roots, nil), tpm.WithTrustedAKs(roots[0].PublicKey)); err == nil {
		t.Fatal("roots and pinned AKs together accepted")
	}
	if _, err := tpm.New(tpm.WithPCRBank(tpm2.AlgSHA1)); err == nil {
		t.Fatal("SHA-1 bank accepted")
	}
}

func TestBitFlipsRejected(t *testing.T) {
	v := mustNew(t)
	raw := teetest.TPMAttestation()
	att, err := tpm.ParseAttestation(raw)
	if err != nil {
		t.Fatal(err)
	}
	var regions []teetest.Region
	add := func(name string, b []byte) {
		i := bytes.Index(raw, b)
		if i < 0 || bytes.Index(raw[i+1:], b) >= 0 {
			t.Fatalf("region %s not found exactly once", name)
		}
		regions = append(regions, teetest.Region{Name: name, Start: i, End: i + len(b)})
	}
	add("ak_cert", att.GetAkCert())
	// The AK public area is not signed; only its key must equal the AK
	// certificate's, so the key bytes are a region and the attributes are not.
	pub, err := tpm2.DecodePublic(att.GetAkPub())
	if err != nil {
		t.Fatal(err)
	}
	if pub.RSAParameters == nil {
		t.Fatal("the GCE sample's AK is RSA")
	}
	pubAt := bytes.Index(raw, att.GetAkPub())
	modAt := bytes.Index(att.GetAkPub(), pub.RSAParameters.ModulusRaw)
	regions = append(regions, teetest.Region{Name: "ak_pub.rsa_modulus", Start: pubAt + modAt, End: pubAt + modAt + len(pub.RSAParameters.ModulusRaw)})
	for _, q := range att.GetQuotes() {
		if tpm2.Algorithm(q.GetPcrs().GetHash()) != tpm2.AlgSHA256 {
			continue
		}
		add("quote.quote", q.GetQuote())
		add("quote.raw_sig", q.GetRawSig())
		for _, idx := range []uint32{0, 4, 7, 9} {
			add("quote.pcrs", q.GetPcrs().GetPcrs()[idx])
		}
	}
	for _, r := range regions {
		t.Run(r.Name, func(t *testing.T) {
			teetest.FlipBits(t, raw, []teetest.Region{r}, 1, func(m []byte) error {
				_, err := v.Verify(t.Context(), m, tee.VerifyOptions{Time: teetest.TPMAt, Nonce: teetest.TPMNonce()})
				return err
			})
		})
	}
}

func FuzzVerify(f *testing.F) {
	f.Add(teetest.TPMAttestation())
	f.Add([]byte{0x0a, 0x00})
	v := mustNew(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		claims, err := v.Verify(t.Context(), data, tee.VerifyOptions{Time: teetest.TPMAt, Nonce: teetest.TPMNonce()})
		if err == nil && claims == nil {
			t.Fatal("nil claims without error")
		}
		if err != nil {
			if _, ok := errors.AsType[*tee.Error](err); !ok {
				t.Fatalf("error %v is not a *tee.Error", err)
			}
		}
	})
}
