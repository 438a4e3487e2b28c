package nitro_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/veraison/go-cose"

	"github.com/hallmark-dev/hallmark/tee"
	"github.com/hallmark-dev/hallmark/tee/nitro"
	"github.com/hallmark-dev/hallmark/tee/teetest"
)

func newVerifier(t *testing.T) *nitro.Verifier {
	t.Helper()
	v, err := nitro.New()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestVerifySamples(t *testing.T) {
	v := newVerifier(t)
	doc := teetest.NitroDocument()
	tests := []struct {
		name      string
		evidence  []byte
		opts      tee.VerifyOptions
		wantErr   error
		wantField string
	}{
		{name: "production at capture time", evidence: doc, opts: tee.VerifyOptions{Time: teetest.NitroAt}},
		{name: "base64 form accepted", evidence: []byte(base64.StdEncoding.EncodeToString(doc)), opts: tee.VerifyOptions{Time: teetest.NitroAt}},
		{name: "debug rejected by default", evidence: teetest.NitroDebugDocument(), opts: tee.VerifyOptions{Time: teetest.NitroAt}, wantErr: tee.ErrDebug, wantField: "debug"},
		{name: "debug accepted when unsafe allowed", evidence: teetest.NitroDebugDocument(), opts: tee.VerifyOptions{Time: teetest.NitroAt, AllowDebugUnsafe: true}},
		{name: "expired at today", evidence: doc, opts: tee.VerifyOptions{Time: teetest.Today}, wantErr: tee.ErrExpired, wantField: "certificate"},
		{name: "not yet valid before capture", evidence: doc, opts: tee.VerifyOptions{Time: teetest.NitroAt.Add(-24 * time.Hour)}, wantErr: tee.ErrExpired, wantField: "certificate"},
		{name: "wrong nonce", evidence: doc, opts: tee.VerifyOptions{Time: teetest.NitroAt, Nonce: []byte("not the nonce")}, wantErr: tee.ErrNonce, wantField: "nonce"},
		{name: "wrong user data", evidence: doc, opts: tee.VerifyOptions{Time: teetest.NitroAt, ReportData: make([]byte, 64)}, wantErr: tee.ErrReportData, wantField: "report_data"},
		{name: "zero time", evidence: doc, opts: tee.VerifyOptions{}, wantErr: tee.ErrOptions, wantField: "time"},
		{name: "too large", evidence: make([]byte, tee.MaxNitroEvidence+1), opts: tee.VerifyOptions{Time: teetest.NitroAt}, wantErr: tee.ErrTooLarge, wantField: "document"},
		{name: "garbage", evidence: []byte("not a document"), opts: tee.VerifyOptions{Time: teetest.NitroAt}, wantErr: tee.ErrMalformed, wantField: "document"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			claims, err := v.Verify(t.Context(), tc.evidence, tc.opts)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				checkClaims(t, claims)
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Verify error = %v, want %v", err, tc.wantErr)
			}
			te, ok := errors.AsType[*tee.Error](err)
			if !ok || te.Platform != tee.Nitro || te.Field != tc.wantField {
				t.Errorf("error %#v: want platform nitro, field %q", err, tc.wantField)
			}
		})
	}
}

func checkClaims(t *testing.T, c *tee.Claims) {
	t.Helper()
	if c.Platform != tee.Nitro {
		t.Errorf("platform %q", c.Platform)
	}
	// The README of the sample states PCR0 starts with e72a46ca and that
	// user_data, nonce and public_key are 1,024 bytes each.
	if !c.Debug && !strings.HasPrefix(c.Measurements["pcr0"], "e72a46ca") {
		t.Errorf("pcr0 = %s", c.Measurements["pcr0"])
	}
	if c.Debug && c.Measurements["pcr0"] != strings.Repeat("0", 96) {
		t.Errorf("debug pcr0 = %s", c.Measurements["pcr0"])
	}
	for name, b := range map[string][]byte{"user_data": c.ReportData, "nonce": c.Nonce, "public_key": c.PublicKey} {
		if len(b) != 1024 {
			t.Errorf("%s: %d bytes, want 1024", name, len(b))
		}
	}
	if got := c.IssuedAt; got.Before(teetest.NitroAt.Add(-time.Hour)) || got.After(teetest.NitroAt) {
		t.Errorf("issuedAt %v not just before %v", got, teetest.NitroAt)
	}
	if c.Signer.RootSHA256 != nitro.RootFingerprint || len(c.Signer.Chain) < 2 || c.Signer.Chain[len(c.Signer.Chain)-1] != "aws.nitro-enclaves" {
		t.Errorf("signer %+v", c.Signer)
	}
	if c.Attributes["module_id"] == "" {
		t.Errorf("no module_id")
	}
}

func TestVerifyNonceAndUserDataFromDocument(t *testing.T) {
	v := newVerifier(t)
	claims, err := v.Verify(t.Context(), teetest.NitroDocument(), tee.VerifyOptions{Time: teetest.NitroAt})
	if err != nil {
		t.Fatal(err)
	}
	// Expecting exactly the values the document carries must pass.
	if _, err := v.Verify(t.Context(), teetest.NitroDocument(), tee.VerifyOptions{Time: teetest.NitroAt, Nonce: claims.Nonce, ReportData: claims.ReportData}); err != nil {
		t.Fatalf("expected nonce and user data rejected: %v", err)
	}
}

func TestRootPinned(t *testing.T) {
	v, err := nitro.New(nitro.WithRootFingerprintUnsafe(strings.Repeat("ab", 32)))
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(t.Context(), teetest.NitroDocument(), tee.VerifyOptions{Time: teetest.NitroAt})
	if !errors.Is(err, tee.ErrChain) {
		t.Fatalf("document accepted under another root: %v", err)
	}
	if _, err := nitro.New(nitro.WithRootFingerprintUnsafe("zz")); err == nil {
		t.Fatal("bad fingerprint accepted")
	}
}

// regions returns the byte ranges of the COSE_Sign1 that the signature covers
// (protected header, payload) and the signature itself.
func regions(t *testing.T, raw []byte) []teetest.Region {
	t.Helper()
	var msg cose.UntaggedSign1Message
	if err := msg.UnmarshalCBOR(raw); err != nil {
		t.Fatal(err)
	}
	var out []teetest.Region
	for _, r := range []struct {
		name string
		b    []byte
	}{{"protected", msg.Headers.RawProtected}, {"payload", msg.Payload}, {"signature", msg.Signature}} {
		i := bytes.Index(raw, r.b)
		if i < 0 || bytes.Index(raw[i+1:], r.b) >= 0 {
			t.Fatalf("region %s not found exactly once", r.name)
		}
		out = append(out, teetest.Region{Name: r.name, Start: i, End: i + len(r.b)})
	}
	return out
}

func TestBitFlipsRejected(t *testing.T) {
	v := newVerifier(t)
	raw := teetest.NitroDocument()
	rs := regions(t, raw)
	// Every byte of the header and signature; every 11th byte of the 7 KiB
	// payload (with the flipped bit rotating) keeps the test near a second.
	for _, r := range rs {
		stride := 1
		if r.Name == "payload" {
			stride = 11
		}
		t.Run(r.Name, func(t *testing.T) {
			n := teetest.FlipBits(t, raw, []teetest.Region{r}, stride, func(m []byte) error {
				_, err := v.Verify(t.Context(), m, tee.VerifyOptions{Time: teetest.NitroAt})
				return err
			})
			t.Logf("%d mutations rejected", n)
		})
	}
}

func FuzzVerify(f *testing.F) {
	f.Add(teetest.NitroDocument())
	f.Add(teetest.NitroDebugDocument())
	f.Add([]byte{0x84, 0x40, 0xa0, 0x40, 0x40})
	v, err := nitro.New()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		claims, err := v.Verify(t.Context(), data, tee.VerifyOptions{Time: teetest.NitroAt, AllowDebugUnsafe: true})
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
