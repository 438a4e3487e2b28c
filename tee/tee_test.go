package tee_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"

	"github.com/hallmark-dev/hallmark/tee"
	"github.com/hallmark-dev/hallmark/tee/nitro"
	"github.com/hallmark-dev/hallmark/tee/sevsnp"
	"github.com/hallmark-dev/hallmark/tee/tdx"
	"github.com/hallmark-dev/hallmark/tee/teetest"
	"github.com/hallmark-dev/hallmark/tee/tpm"
)

// sample is one real piece of evidence with the options that verify it.
type sample struct {
	platform tee.Platform
	evidence []byte
	opts     tee.VerifyOptions
}

func samples() []sample {
	return []sample{
		{tee.SEVSNP, teetest.SEVSNPReport(), tee.VerifyOptions{Time: teetest.SEVSNPAt, AllowDebugUnsafe: true}},
		{tee.TDX, teetest.TDXQuote(), tee.VerifyOptions{Time: teetest.TDXAt}},
		{tee.TPM, teetest.TPMAttestation(), tee.VerifyOptions{Time: teetest.TPMAt, Nonce: teetest.TPMNonce()}},
		{tee.Nitro, teetest.NitroDocument(), tee.VerifyOptions{Time: teetest.NitroAt}},
	}
}

func registry(t testing.TB) *tee.Registry {
	t.Helper()
	snp, err := sevsnp.New(sevsnp.WithVCEK(teetest.SEVSNPVCEK()))
	if err != nil {
		t.Fatal(err)
	}
	c := teetest.TDXCollateralFiles()
	td, err := tdx.New(tdx.WithCollateral(tdx.Collateral{
		TCBInfo: c.TCBInfo, TCBInfoIssuerChain: c.TCBInfoIssuerChain,
		QEIdentity: c.QEIdentity, QEIdentityIssuerChain: c.QEIdentityIssuerChain,
		PCKCRL: c.PCKCRL, PCKCRLIssuerChain: c.PCKCRLIssuerChain, RootCRL: c.RootCRL,
	}), tdx.WithAcceptedTCBStatuses("UpToDate", tdx.NoMatchingLevel))
	if err != nil {
		t.Fatal(err)
	}
	tp, err := tpm.New()
	if err != nil {
		t.Fatal(err)
	}
	ni, err := nitro.New()
	if err != nil {
		t.Fatal(err)
	}
	r, err := tee.NewRegistry(snp, td, tp, ni)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRegistry(t *testing.T) {
	r := registry(t)
	for _, s := range samples() {
		t.Run(string(s.platform), func(t *testing.T) {
			c, err := r.Verify(t.Context(), s.platform, s.evidence, s.opts)
			if err != nil {
				t.Fatal(err)
			}
			if c.Platform != s.platform {
				t.Errorf("claims platform %q", c.Platform)
			}
		})
	}
	if _, err := r.Verify(t.Context(), "sgx", nil, tee.VerifyOptions{}); !errors.Is(err, tee.ErrUnknownPlatform) {
		t.Errorf("unknown platform: %v", err)
	}
	ni, _ := nitro.New()
	if _, err := tee.NewRegistry(ni, ni); err == nil {
		t.Error("two verifiers for one platform accepted")
	}
}

func TestParsePlatform(t *testing.T) {
	for _, p := range tee.Platforms() {
		got, err := tee.ParsePlatform(string(p))
		if err != nil || got != p {
			t.Errorf("ParsePlatform(%q) = %q, %v", p, got, err)
		}
	}
	if _, err := tee.ParsePlatform("sev"); !errors.Is(err, tee.ErrUnknownPlatform) {
		t.Errorf("ParsePlatform(sev) = %v", err)
	}
}

func TestDeriveAndMatchReferenceValues(t *testing.T) {
	r := registry(t)
	var all []*tee.Claims
	for _, s := range samples() {
		c, err := r.Verify(t.Context(), s.platform, s.evidence, s.opts)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, c)
	}
	rv, err := tee.DeriveReferenceValues(all...)
	if err != nil {
		t.Fatal(err)
	}
	// Round-trip through the documented JSON form.
	data, err := json.MarshalIndent(rv, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := tee.LoadReferenceValues(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("LoadReferenceValues(derived): %v\n%s", err, data)
	}
	if diff := cmp.Diff(rv, loaded); diff != "" {
		t.Errorf("round trip (-derived +loaded):\n%s", diff)
	}
	for _, s := range samples() {
		t.Run(string(s.platform), func(t *testing.T) {
			opts := s.opts
			opts.ReferenceValues = loaded
			if _, err := r.Verify(t.Context(), s.platform, s.evidence, opts); err != nil {
				t.Fatalf("sample rejected by values derived from it: %v", err)
			}
		})
	}
	// Another enclave's values reject the Nitro sample, naming the PCR.
	other := *loaded
	other.Platforms = map[tee.Platform]tee.PlatformReference{tee.Nitro: {Measurements: map[string][]string{"pcr0": {strings.Repeat("ab", 48)}}}}
	s := samples()[3]
	s.opts.ReferenceValues = &other
	_, err = r.Verify(t.Context(), s.platform, s.evidence, s.opts)
	te, ok := errors.AsType[*tee.Error](err)
	if !errors.Is(err, tee.ErrMeasurement) || !ok || te.Field != "pcr0" || te.Platform != tee.Nitro {
		t.Errorf("foreign reference values: %v", err)
	}
}

func TestReferenceValuesMatch(t *testing.T) {
	claims := &tee.Claims{
		Platform:         tee.SEVSNP,
		Measurements:     map[string]string{"measurement": "aa", "host_data": "00"},
		SecurityVersions: map[string]uint64{"tcb_snp": 5},
	}
	tests := []struct {
		name      string
		ref       map[tee.Platform]tee.PlatformReference
		wantErr   error
		wantField string
	}{
		{name: "match one of several", ref: map[tee.Platform]tee.PlatformReference{tee.SEVSNP: {Measurements: map[string][]string{"measurement": {"bb", "aa"}}}}},
		{name: "minimum met", ref: map[tee.Platform]tee.PlatformReference{tee.SEVSNP: {MinSecurityVersions: map[string]uint64{"tcb_snp": 5}}}},
		{name: "value differs", ref: map[tee.Platform]tee.PlatformReference{tee.SEVSNP: {Measurements: map[string][]string{"measurement": {"bb"}}}}, wantErr: tee.ErrMeasurement, wantField: "measurement"},
		{name: "measurement absent", ref: map[tee.Platform]tee.PlatformReference{tee.SEVSNP: {Measurements: map[string][]string{"rtmr0": {"bb"}}}}, wantErr: tee.ErrMeasurement, wantField: "rtmr0"},
		{name: "platform absent", ref: map[tee.Platform]tee.PlatformReference{tee.TDX: {Measurements: map[string][]string{"mr_td": {"aa"}}}}, wantErr: tee.ErrMeasurement, wantField: "reference_values"},
		{name: "below minimum", ref: map[tee.Platform]tee.PlatformReference{tee.SEVSNP: {MinSecurityVersions: map[string]uint64{"tcb_snp": 8}}}, wantErr: tee.ErrSecurityVersion, wantField: "tcb_snp"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rv := &tee.ReferenceValues{Type: tee.ReferenceValuesType, Platforms: tc.ref}
			if err := rv.Validate(); err != nil {
				t.Fatal(err)
			}
			err := rv.Match(claims)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			te, ok := errors.AsType[*tee.Error](err)
			if !errors.Is(err, tc.wantErr) || !ok || te.Field != tc.wantField {
				t.Fatalf("Match = %v, want %v on field %q", err, tc.wantErr, tc.wantField)
			}
		})
	}
}

func TestLoadReferenceValuesRejects(t *testing.T) {
	tests := map[string]string{
		"wrong type":       `{"_type":"x","platforms":{"nitro":{"measurements":{"pcr0":["aa"]}}}}`,
		"unknown field":    `{"_type":"https://hallmark.dev/tee/reference-values/v1","platforms":{"nitro":{"measurments":{"pcr0":["aa"]}}}}`,
		"unknown platform": `{"_type":"https://hallmark.dev/tee/reference-values/v1","platforms":{"sgx":{"measurements":{"x":["aa"]}}}}`,
		"uppercase hex":    `{"_type":"https://hallmark.dev/tee/reference-values/v1","platforms":{"nitro":{"measurements":{"pcr0":["AA"]}}}}`,
		"empty list":       `{"_type":"https://hallmark.dev/tee/reference-values/v1","platforms":{"nitro":{"measurements":{"pcr0":[]}}}}`,
		"no platforms":     `{"_type":"https://hallmark.dev/tee/reference-values/v1","platforms":{}}`,
		"trailing data":    `{"_type":"https://hallmark.dev/tee/reference-values/v1","platforms":{"nitro":{"measurements":{"pcr0":["aa"]}}}} {}`,
		"key case twin":    `{"_type":"https://hallmark.dev/tee/reference-values/v1","platforms":{"nitro":{"measurements":{"pcr0":["aa"]},"Measurements":{"pcr0":["bb"]}}}}`,
		"too large":        `{"_type":"` + strings.Repeat("a", tee.MaxReferenceValues) + `"}`,
	}
	for name, doc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := tee.LoadReferenceValues(strings.NewReader(doc))
			if !errors.Is(err, tee.ErrReferenceValues) && !errors.Is(err, tee.ErrTooLarge) {
				t.Fatalf("LoadReferenceValues = %v, want a reference-values error", err)
			}
		})
	}
}

func TestDocumentedExampleLoads(t *testing.T) {
	f, err := os.Open("testdata/reference-values.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rv, err := tee.LoadReferenceValues(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(rv.Platforms) != 4 {
		t.Errorf("example lists %d platforms, want 4", len(rv.Platforms))
	}
	// The example was derived from the real samples and trimmed; each sample
	// must still match it.
	r := registry(t)
	for _, s := range samples() {
		opts := s.opts
		opts.ReferenceValues = rv
		if _, err := r.Verify(t.Context(), s.platform, s.evidence, opts); err != nil {
			t.Errorf("%s sample against the documented example: %v", s.platform, err)
		}
	}
}

func TestBindingLayout(t *testing.T) {
	payload := []byte(`{"_type":"https://in-toto.io/Statement/v1"}`)
	const payloadType = "application/vnd.in-toto+json"
	var nonce [tee.NonceSize]byte
	for i := range nonce {
		nonce[i] = byte(i)
	}
	b := tee.NewBinding(payloadType, payload, nonce)
	rd := b.ReportData()
	pae := dsse.PAE(payloadType, payload)
	digest := sha256.Sum256(pae)
	want := append(digest[:], nonce[:]...)
	if diff := cmp.Diff(want, rd[:]); diff != "" {
		t.Errorf("report data (-want +got):\n%s", diff)
	}
	// PAE per the DSSE spec: "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body.
	if !bytes.HasPrefix(pae, []byte("DSSEv1 28 application/vnd.in-toto+json 43 ")) {
		t.Errorf("unexpected PAE %q", pae)
	}
	parsed, err := tee.ParseBinding(tee.SEVSNP, rd[:])
	if err != nil || parsed != b {
		t.Errorf("ParseBinding = %+v, %v", parsed, err)
	}
	if _, err := tee.ParseBinding(tee.SEVSNP, rd[:32]); !errors.Is(err, tee.ErrBinding) {
		t.Errorf("short report data: %v", err)
	}
	// TPM quotes carry SHA-256 of the 64 bytes; the others the bytes.
	tpmWant := sha256.Sum256(rd[:])
	if diff := cmp.Diff(tpmWant[:], b.Quoted(tee.TPM)); diff != "" {
		t.Errorf("tpm quoted data (-want +got):\n%s", diff)
	}
	otherDigest := tee.Binding{PAEDigest: sha256.Sum256([]byte("another provenance")), Nonce: nonce}
	otherNonce := tee.Binding{PAEDigest: digest, Nonce: [tee.NonceSize]byte{0xff}}
	for _, p := range tee.Platforms() {
		claims := &tee.Claims{Platform: p, ReportData: b.Quoted(p)}
		if err := tee.CheckBinding(claims, b); err != nil {
			t.Errorf("%s: CheckBinding: %v", p, err)
		}
		for name, wrong := range map[string]tee.Binding{"other provenance": otherDigest, "other nonce": otherNonce} {
			if err := tee.CheckBinding(claims, wrong); !errors.Is(err, tee.ErrBinding) {
				t.Errorf("%s: CheckBinding(%s) = %v", p, name, err)
			}
		}
	}
}

// fakeVerifier echoes evidence as report data, standing in for hardware in
// the predicate round trip (the real verifiers are tested in their packages
// and with the collectors).
type fakeVerifier struct{}

func (fakeVerifier) Platform() tee.Platform { return tee.SEVSNP }
func (fakeVerifier) Verify(_ context.Context, evidence []byte, opts tee.VerifyOptions) (*tee.Claims, error) {
	if err := opts.Validate(tee.SEVSNP); err != nil {
		return nil, err
	}
	c := &tee.Claims{Platform: tee.SEVSNP, ReportData: evidence, Measurements: map[string]string{}}
	return c, tee.CheckClaims(c, opts)
}

func TestPredicateRoundTrip(t *testing.T) {
	r, err := tee.NewRegistry(fakeVerifier{})
	if err != nil {
		t.Fatal(err)
	}
	pae := dsse.PAE("application/vnd.in-toto+json", []byte(`{"predicateType":"https://slsa.dev/provenance/v1"}`))
	b := tee.BindingFromPAE(pae, [tee.NonceSize]byte{7})
	rd := b.ReportData()
	claims := &tee.Claims{Platform: tee.SEVSNP, ReportData: rd[:]}
	pred := tee.NewPredicate(claims, rd[:], b)
	data, err := json.Marshal(pred)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := tee.ParsePredicate(data)
	if err != nil {
		t.Fatal(err)
	}
	opts := tee.VerifyOptions{Time: teetest.Today}
	if _, err := tee.VerifyPredicate(t.Context(), r, parsed, pae, opts); err != nil {
		t.Fatalf("VerifyPredicate: %v", err)
	}
	if _, err := tee.VerifyPredicate(t.Context(), r, parsed, append(pae, 'x'), opts); !errors.Is(err, tee.ErrBinding) {
		t.Errorf("other PAE: %v", err)
	}
	// Evidence whose report data is not the recorded binding.
	tampered := *parsed
	tampered.Evidence = bytes.Repeat([]byte{1}, 64)
	if _, err := tee.VerifyPredicate(t.Context(), r, &tampered, pae, opts); !errors.Is(err, tee.ErrReportData) {
		t.Errorf("tampered evidence: %v", err)
	}
	if _, err := tee.ParsePredicate([]byte(`{"platform":"sgx","evidence":"AA=="}`)); !errors.Is(err, tee.ErrUnknownPlatform) {
		t.Errorf("unknown platform predicate: %v", err)
	}
}

func TestErrorMessageNamesPlatformAndField(t *testing.T) {
	err := tee.Errorf(tee.Nitro, "pcrs[0]", tee.ErrMalformed, "%d bytes", 7)
	if got, want := err.Error(), "nitro: pcrs[0]: malformed evidence: 7 bytes"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, tee.ErrMalformed) {
		t.Error("sentinel not wrapped")
	}
}

func FuzzLoadReferenceValues(f *testing.F) {
	if data, err := os.ReadFile("testdata/reference-values.json"); err == nil {
		f.Add(data)
	}
	f.Add([]byte(`{"_type":"https://hallmark.dev/tee/reference-values/v1","platforms":{"nitro":{"measurements":{"pcr0":["aa"]}}}}`))
	claims := &tee.Claims{Platform: tee.Nitro, Measurements: map[string]string{"pcr0": "aa"}}
	f.Fuzz(func(t *testing.T, data []byte) {
		rv, err := tee.ParseReferenceValues(data)
		if err != nil {
			return
		}
		_ = rv.Match(claims)
	})
}

func FuzzParsePredicate(f *testing.F) {
	f.Add([]byte(`{"platform":"tdx","evidence":"AAEC","binding":{"paeDigest":{"sha256":"00"},"nonce":"00"}}`))
	r, err := tee.NewRegistry(fakeVerifier{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := tee.ParsePredicate(data)
		if err != nil {
			return
		}
		_, _ = tee.VerifyPredicate(t.Context(), r, p, []byte("pae"), tee.VerifyOptions{Time: teetest.Today})
	})
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name     string
		evidence []byte
		want     tee.Platform
	}{
		{"sev-snp raw report", teetest.SEVSNPReport(), tee.SEVSNP},
		{"tdx quote", teetest.TDXQuote(), tee.TDX},
		{"nitro raw", teetest.NitroDocument(), tee.Nitro},
		{"nitro base64", []byte(base64.StdEncoding.EncodeToString(teetest.NitroDocument())), tee.Nitro},
		{"tpm protobuf", teetest.TPMAttestation(), ""},
		{"empty", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tee.Detect(tc.evidence)
			if tc.want == "" {
				if !errors.Is(err, tee.ErrUnknownPlatform) {
					t.Fatalf("Detect = %q, %v; want ErrUnknownPlatform", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Detect = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestSafelyTurnsPanicsIntoErrors(t *testing.T) {
	err := tee.Safely(tee.TDX, "quote", func() error {
		var b []byte
		_ = b[:64] // what go-tdx-guest's parser did on a fuzzed quote
		return nil
	})
	te, ok := errors.AsType[*tee.Error](err)
	if !errors.Is(err, tee.ErrMalformed) || !ok || te.Platform != tee.TDX || te.Field != "quote" {
		t.Fatalf("Safely = %v", err)
	}
	want := errors.New("plain")
	if err := tee.Safely(tee.TDX, "quote", func() error { return want }); err != want {
		t.Errorf("Safely passed through %v, want %v", err, want)
	}
}
