package tdx_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/tee"
	"github.com/hallmark-dev/hallmark/tee/tdx"
	"github.com/hallmark-dev/hallmark/tee/teetest"
)

func collateral() tdx.Collateral {
	f := teetest.TDXCollateralFiles()
	return tdx.Collateral{
		TCBInfo: f.TCBInfo, TCBInfoIssuerChain: f.TCBInfoIssuerChain,
		QEIdentity: f.QEIdentity, QEIdentityIssuerChain: f.QEIdentityIssuerChain,
		PCKCRL: f.PCKCRL, PCKCRLIssuerChain: f.PCKCRLIssuerChain, RootCRL: f.RootCRL,
	}
}

func mustNew(t testing.TB, opts ...tdx.Option) *tdx.Verifier {
	t.Helper()
	v, err := tdx.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestNewNeedsCollateralChoice(t *testing.T) {
	if _, err := tdx.New(); err == nil {
		t.Error("New() without collateral choice succeeded")
	}
	if _, err := tdx.New(tdx.WithCollateral(collateral()), tdx.WithoutCollateralUnsafe()); err == nil {
		t.Error("contradictory options accepted")
	}
	if _, err := tdx.New(tdx.WithCollateral(tdx.Collateral{})); err == nil {
		t.Error("empty collateral accepted")
	}
}

func TestVerifySample(t *testing.T) {
	quote := teetest.TDXQuote()
	tests := []struct {
		name       string
		verifier   *tdx.Verifier
		opts       tee.VerifyOptions
		wantErr    error
		wantField  string
		wantStatus string
	}{
		{
			// Signature, QE report and PCK chain only.
			name:     "quote and chain without collateral",
			verifier: mustNew(t, tdx.WithoutCollateralUnsafe()),
			opts:     tee.VerifyOptions{Time: teetest.TDXAt},
		},
		{
			// The 2023 collateral verifies (signatures, CRLs, validity) but
			// lists no TCB level matching this quote: rejected by default.
			name:      "2023 collateral: TCB status rejected by default",
			verifier:  mustNew(t, tdx.WithCollateral(collateral())),
			opts:      tee.VerifyOptions{Time: teetest.TDXAt},
			wantErr:   tee.ErrTCBStatus,
			wantField: "tcb_status",
		},
		{
			name:       "2023 collateral: status accepted when configured",
			verifier:   mustNew(t, tdx.WithCollateral(collateral()), tdx.WithAcceptedTCBStatuses("UpToDate", tdx.NoMatchingLevel)),
			opts:       tee.VerifyOptions{Time: teetest.TDXAt},
			wantStatus: tdx.NoMatchingLevel,
		},
		{
			name:      "collateral expired at today",
			verifier:  mustNew(t, tdx.WithCollateral(collateral()), tdx.WithAcceptedTCBStatuses(tdx.NoMatchingLevel)),
			opts:      tee.VerifyOptions{Time: teetest.Today},
			wantErr:   tee.ErrExpired,
			wantField: "collateral",
		},
		{
			// Attack (#20 item 11): verification at a time before the TCB
			// info was issued succeeded; only expiry was enforced.
			name:      "collateral not yet issued",
			verifier:  mustNew(t, tdx.WithCollateral(collateral()), tdx.WithAcceptedTCBStatuses(tdx.NoMatchingLevel)),
			opts:      tee.VerifyOptions{Time: time.Date(2023, time.June, 10, 0, 0, 0, 0, time.UTC)},
			wantErr:   tee.ErrExpired,
			wantField: "collateral.tcb_info",
		},
		{
			// Issued the same day as the QE identity and the PCK CRL, minutes
			// apart: the CRL's thisUpdate is the last of the three.
			name:      "PCK CRL not yet issued",
			verifier:  mustNew(t, tdx.WithCollateral(collateralTCBIssued(t, "2023-06-08T07:00:00Z")), tdx.WithAcceptedTCBStatuses(tdx.NoMatchingLevel)),
			opts:      tee.VerifyOptions{Time: time.Date(2023, time.June, 8, 7, 26, 0, 0, time.UTC)},
			wantErr:   tee.ErrExpired,
			wantField: "collateral.pck_crl",
		},
		{
			name:      "PCK chain expired in 2034",
			verifier:  mustNew(t, tdx.WithoutCollateralUnsafe()),
			opts:      tee.VerifyOptions{Time: teetest.Today.AddDate(8, 0, 0)},
			wantErr:   tee.ErrExpired,
			wantField: "quote",
		},
		{
			name:      "wrong report data",
			verifier:  mustNew(t, tdx.WithoutCollateralUnsafe()),
			opts:      tee.VerifyOptions{Time: teetest.TDXAt, ReportData: make([]byte, 64)},
			wantErr:   tee.ErrReportData,
			wantField: "report_data",
		},
		{
			name:      "no nonce field",
			verifier:  mustNew(t, tdx.WithoutCollateralUnsafe()),
			opts:      tee.VerifyOptions{Time: teetest.TDXAt, Nonce: []byte{1}},
			wantErr:   tee.ErrNonce,
			wantField: "nonce",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			claims, err := tc.verifier.Verify(t.Context(), quote, tc.opts)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Verify error = %v, want %v", err, tc.wantErr)
				}
				te, ok := errors.AsType[*tee.Error](err)
				if !ok || te.Platform != tee.TDX || te.Field != tc.wantField {
					t.Fatalf("error %v: want platform tdx, field %q", err, tc.wantField)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if claims.Platform != tee.TDX || claims.TCBStatus != tc.wantStatus || claims.Debug {
				t.Errorf("claims platform %q status %q debug %v", claims.Platform, claims.TCBStatus, claims.Debug)
			}
			for _, name := range []string{"mr_td", "rtmr0", "rtmr3", "mr_seam"} {
				if len(claims.Measurements[name]) != 96 {
					t.Errorf("measurement %s = %q, want 48 bytes hex", name, claims.Measurements[name])
				}
			}
			if len(claims.ReportData) != 64 {
				t.Errorf("report data %d bytes", len(claims.ReportData))
			}
			if n := len(claims.Signer.Chain); n != 3 || claims.Signer.Chain[n-1] != "Intel SGX Root CA" {
				t.Errorf("signer chain %q", claims.Signer.Chain)
			}
		})
	}
}

// Quote v4 layout: header (48) + TD quote body (584) signed by the
// attestation key; then a 4-byte length, the signature (64), the attestation
// key (64), certification data type (2) and size (4), the QE report (384)
// signed by the PCK key, its signature (64). The QE report's data commits to
// the attestation key and the QE authentication data; the PCK chain must
// reach the Intel root.
func signedRegions(t *testing.T, q []byte) []teetest.Region {
	t.Helper()
	if got := binary.LittleEndian.Uint16(q[0:2]); got != 4 {
		t.Fatalf("quote version %d, want 4", got)
	}
	// QE authentication data (2-byte length at 1218), then certification
	// data type (2) and size (4) and the PEM PCK chain.
	authLen := int(binary.LittleEndian.Uint16(q[1218:1220]))
	pemStart := 1220 + authLen + 6
	pemLen := int(binary.LittleEndian.Uint32(q[pemStart-4 : pemStart]))
	return []teetest.Region{
		{Name: "header", Start: 0, End: 48},
		{Name: "td_quote_body", Start: 48, End: 632},
		{Name: "quote_signature", Start: 636, End: 700},
		{Name: "attestation_key", Start: 700, End: 764},
		{Name: "qe_report", Start: 770, End: 1154},
		{Name: "qe_report_signature", Start: 1154, End: 1218},
		{Name: "qe_auth_data", Start: 1220, End: 1220 + authLen},
		{Name: "pck_chain_pem", Start: pemStart, End: pemStart + pemLen},
	}
}

func TestBitFlipsRejected(t *testing.T) {
	v := mustNew(t, tdx.WithoutCollateralUnsafe())
	quote := teetest.TDXQuote()
	for _, r := range signedRegions(t, quote) {
		t.Run(r.Name, func(t *testing.T) {
			teetest.FlipBits(t, quote, []teetest.Region{r}, 1, func(m []byte) error {
				_, err := v.Verify(t.Context(), m, tee.VerifyOptions{Time: teetest.TDXAt})
				return err
			})
		})
	}
}

func FuzzVerify(f *testing.F) {
	f.Add(teetest.TDXQuote())
	f.Add(teetest.TDXQuote()[:632])
	f.Add([]byte{4, 0, 2, 0, 0x81, 0, 0, 0})
	v := mustNew(f, tdx.WithoutCollateralUnsafe())
	f.Fuzz(func(t *testing.T, data []byte) {
		claims, err := v.Verify(t.Context(), data, tee.VerifyOptions{Time: teetest.TDXAt})
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

// collateralTCBIssued returns the sample collateral with the TCB info's
// issueDate replaced (its signature no longer verifies, which the issue-date
// check, running first, does not need).
func collateralTCBIssued(t *testing.T, issued string) tdx.Collateral {
	t.Helper()
	c := collateral()
	old := []byte(`"issueDate":"2023-06-18T08:42:58Z"`)
	if !bytes.Contains(c.TCBInfo, old) {
		t.Fatalf("sample TCB info lacks %s", old)
	}
	c.TCBInfo = bytes.Replace(c.TCBInfo, old, []byte(`"issueDate":"`+issued+`"`), 1)
	return c
}
