package sevsnp_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	spb "github.com/google/go-sev-guest/proto/sevsnp"
	"google.golang.org/protobuf/proto"

	"github.com/hallmark-dev/hallmark/tee"
	"github.com/hallmark-dev/hallmark/tee/sevsnp"
	"github.com/hallmark-dev/hallmark/tee/teetest"
)

func mustNew(t testing.TB, opts ...sevsnp.Option) *sevsnp.Verifier {
	t.Helper()
	v, err := sevsnp.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// attestationProto wraps the raw sample report and its VCEK in the
// Attestation protobuf form.
func attestationProto(t testing.TB) []byte {
	t.Helper()
	att, err := sevsnp.ParseEvidence(teetest.SEVSNPReport())
	if err != nil {
		t.Fatal(err)
	}
	att.CertificateChain = &spb.CertificateChain{VcekCert: teetest.SEVSNPVCEK()}
	b, err := proto.Marshal(att)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVerifySample(t *testing.T) {
	cached := mustNew(t, sevsnp.WithVCEK(teetest.SEVSNPVCEK()))
	bare := mustNew(t)
	report := teetest.SEVSNPReport()
	tests := []struct {
		name      string
		verifier  *sevsnp.Verifier
		evidence  []byte
		opts      tee.VerifyOptions
		wantErr   error
		wantField string
	}{
		{name: "debug guest verifies when debug allowed", verifier: cached, evidence: report, opts: tee.VerifyOptions{Time: teetest.SEVSNPAt, AllowDebugUnsafe: true}},
		{name: "still valid today", verifier: cached, evidence: report, opts: tee.VerifyOptions{Time: teetest.Today, AllowDebugUnsafe: true}},
		{name: "attestation protobuf carrying the VCEK", verifier: bare, evidence: attestationProto(t), opts: tee.VerifyOptions{Time: teetest.SEVSNPAt, AllowDebugUnsafe: true}},
		{name: "strict policy rejects the debug guest", verifier: cached, evidence: report, opts: tee.VerifyOptions{Time: teetest.SEVSNPAt}, wantErr: tee.ErrDebug, wantField: "debug"},
		{name: "no VCEK available", verifier: bare, evidence: report, opts: tee.VerifyOptions{Time: teetest.SEVSNPAt, AllowDebugUnsafe: true}, wantErr: tee.ErrChain, wantField: "certificate_chain.vcek"},
		{name: "VCEK not yet valid", verifier: cached, evidence: report, opts: tee.VerifyOptions{Time: teetest.SEVSNPAt.AddDate(-2, 0, 0), AllowDebugUnsafe: true}, wantErr: tee.ErrExpired, wantField: "certificate_chain"},
		{name: "VCEK expired in 2030", verifier: cached, evidence: report, opts: tee.VerifyOptions{Time: teetest.Today.AddDate(4, 0, 0), AllowDebugUnsafe: true}, wantErr: tee.ErrExpired, wantField: "certificate_chain"},
		{name: "wrong report data", verifier: cached, evidence: report, opts: tee.VerifyOptions{Time: teetest.SEVSNPAt, AllowDebugUnsafe: true, ReportData: make([]byte, 64)}, wantErr: tee.ErrReportData, wantField: "report_data"},
		{name: "truncated", verifier: cached, evidence: report[:100], opts: tee.VerifyOptions{Time: teetest.SEVSNPAt}, wantErr: tee.ErrMalformed, wantField: "attestation"},
		{name: "too large", verifier: cached, evidence: make([]byte, tee.MaxSEVSNPEvidence+1), opts: tee.VerifyOptions{Time: teetest.SEVSNPAt}, wantErr: tee.ErrTooLarge, wantField: "evidence"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			claims, err := tc.verifier.Verify(t.Context(), tc.evidence, tc.opts)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Verify error = %v, want %v", err, tc.wantErr)
				}
				te, ok := errors.AsType[*tee.Error](err)
				if !ok || te.Platform != tee.SEVSNP || te.Field != tc.wantField {
					t.Fatalf("error %v: want platform sev-snp, field %q", err, tc.wantField)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if claims.Platform != tee.SEVSNP || !claims.Debug {
				t.Errorf("platform %q debug %v; the sample is a debug guest", claims.Platform, claims.Debug)
			}
			if len(claims.Measurements["measurement"]) != 96 || len(claims.ReportData) != 64 {
				t.Errorf("measurement %q report data %d bytes", claims.Measurements["measurement"], len(claims.ReportData))
			}
			if !strings.HasPrefix(claims.Attributes["product"], "Milan") ||
				strings.Join(claims.Signer.Chain, ",") != "SEV-VCEK,SEV-Milan,ARK-Milan" || claims.Signer.RootSHA256 != milanARKSHA256(t) {
				t.Errorf("product %q signer %+v", claims.Attributes["product"], claims.Signer)
			}
			// The cached VCEK's TCB: blSPL=2 teeSPL=0 snpSPL=5 ucodeSPL=68 (its KDS URL).
			want := map[string]uint64{"tcb_bootloader": 2, "tcb_tee": 0, "tcb_snp": 5, "tcb_microcode": 68}
			for k, w := range want {
				if claims.SecurityVersions[k] != w {
					t.Errorf("%s = %d, want %d", k, claims.SecurityVersions[k], w)
				}
			}
		})
	}
}

// The report's first 0x2A0 bytes are signed; the signature's R and S
// (72 bytes each, little-endian) follow at 0x2A0.
func TestBitFlipsRejected(t *testing.T) {
	v := mustNew(t, sevsnp.WithVCEK(teetest.SEVSNPVCEK()))
	report := teetest.SEVSNPReport()
	regions := []teetest.Region{
		{Name: "signed_report", Start: 0, End: 0x2A0},
		{Name: "signature_r", Start: 0x2A0, End: 0x2A0 + 72},
		{Name: "signature_s", Start: 0x2A0 + 72, End: 0x2A0 + 144},
	}
	for _, r := range regions {
		t.Run(r.Name, func(t *testing.T) {
			teetest.FlipBits(t, report, []teetest.Region{r}, 1, func(m []byte) error {
				_, err := v.Verify(t.Context(), m, tee.VerifyOptions{Time: teetest.SEVSNPAt, AllowDebugUnsafe: true})
				return err
			})
		})
	}
}

func FuzzVerify(f *testing.F) {
	f.Add(teetest.SEVSNPReport())
	f.Add(attestationProto(f))
	f.Add([]byte{0x0a, 0x02, 0x08, 0x02})
	v := mustNew(f, sevsnp.WithVCEK(teetest.SEVSNPVCEK()))
	f.Fuzz(func(t *testing.T, data []byte) {
		claims, err := v.Verify(t.Context(), data, tee.VerifyOptions{Time: teetest.SEVSNPAt, AllowDebugUnsafe: true})
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

// milanARKSHA256 is the SHA-256 of the ARK in the Milan chain published by AMD KDS.
func milanARKSHA256(t *testing.T) string {
	t.Helper()
	rest := teetest.SEVSNPAskArk()
	var last []byte
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		last = b.Bytes
	}
	sum := sha256.Sum256(last)
	return hex.EncodeToString(sum[:])
}
