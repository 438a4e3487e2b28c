package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/tee"
	"github.com/hallmark-dev/hallmark/tee/teetest"
)

func writeBytes(t *testing.T, path string, b []byte) string {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// teeSamples writes the real samples and the TDX collateral directory.
func teeSamples(t *testing.T) (dir string) {
	t.Helper()
	dir = t.TempDir()
	writeBytes(t, filepath.Join(dir, "nitro.cose"), teetest.NitroDocument())
	writeBytes(t, filepath.Join(dir, "tpm.pb"), teetest.TPMAttestation())
	writeBytes(t, filepath.Join(dir, "tdx.quote"), teetest.TDXQuote())
	writeBytes(t, filepath.Join(dir, "snp.report"), teetest.SEVSNPReport())
	writeBytes(t, filepath.Join(dir, "vcek.der"), teetest.SEVSNPVCEK())
	col := filepath.Join(dir, "collateral")
	if err := os.Mkdir(col, 0o755); err != nil {
		t.Fatal(err)
	}
	c := teetest.TDXCollateralFiles()
	for i, b := range [][]byte{c.TCBInfo, c.TCBInfoIssuerChain, c.QEIdentity, c.QEIdentityIssuerChain, c.PCKCRL, c.PCKCRLIssuerChain, c.RootCRL} {
		writeBytes(t, filepath.Join(col, tdxCollateralFiles[i]), b)
	}
	return dir
}

func at(t time.Time) string { return t.Format(time.RFC3339) }

func TestTeeVerify(t *testing.T) {
	ta := newTestApp(t) // clock: 2026-11-25
	dir := teeSamples(t)
	p := func(name string) string { return filepath.Join(dir, name) }
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantOut    string
		wantStderr string
	}{
		{"nitro at capture", []string{p("nitro.cose"), "--at", at(teetest.NitroAt)}, ExitOK, `"platform": "nitro"`, ""},
		{"nitro expired today", []string{p("nitro.cose")}, ExitRejected, "", "nitro: certificate: certificate or collateral expired"},
		{"tpm with nonce", []string{p("tpm.pb"), "--platform", "tpm", "--nonce", "9009"}, ExitOK, `"pcr_bank": "sha256"`, ""},
		{"tpm wrong nonce", []string{p("tpm.pb"), "--platform", "tpm", "--nonce", "900a"}, ExitRejected, "", "tpm: nonce: nonce mismatch"},
		{"tpm without nonce", []string{p("tpm.pb"), "--platform", "tpm"}, ExitUsage, "", "tpm: nonce"},
		{"tpm undetectable", []string{p("tpm.pb"), "--nonce", "9009"}, ExitUsage, "", "use --platform"},
		{"tdx needs collateral choice", []string{p("tdx.quote")}, ExitUsage, "", "--tdx-collateral"},
		{"tdx 2023 collateral, default statuses", []string{p("tdx.quote"), "--tdx-collateral", p("collateral"), "--at", at(teetest.TDXAt)}, ExitRejected, "", "tdx: tcb_status"},
		{"tdx 2023 collateral, status accepted", []string{p("tdx.quote"), "--tdx-collateral", p("collateral"), "--at", at(teetest.TDXAt), "--tdx-accept-tcb-status", "NoMatchingLevel"}, ExitOK, `"tcbStatus": "NoMatchingLevel"`, ""},
		{"tdx collateral expired today", []string{p("tdx.quote"), "--tdx-collateral", p("collateral"), "--tdx-accept-tcb-status", "NoMatchingLevel"}, ExitRejected, "", "tdx: collateral: certificate or collateral expired"},
		{"snp debug guest rejected", []string{p("snp.report"), "--sev-vcek", p("vcek.der")}, ExitRejected, "", "sev-snp: debug"},
		{"snp debug allowed", []string{p("snp.report"), "--sev-vcek", p("vcek.der"), "--allow-debug-unsafe"}, ExitOK, `"debug": true`, ""},
		{"garbage", []string{p("vcek.der"), "--platform", "nitro"}, ExitBadInput, "", "nitro: document: malformed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code := ta.run(append([]string{"tee", "verify"}, tc.args...)...)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.wantCode, ta.out, ta.errOut)
			}
			if !strings.Contains(ta.out.String(), tc.wantOut) || !strings.Contains(ta.errOut.String(), tc.wantStderr) {
				t.Errorf("stdout %q does not contain %q or stderr %q does not contain %q", ta.out, tc.wantOut, ta.errOut, tc.wantStderr)
			}
			if code == ExitOK {
				var c tee.Claims
				if err := json.Unmarshal(ta.out.Bytes(), &c); err != nil {
					t.Errorf("output is not claims JSON: %v", err)
				}
			}
		})
	}
}

func TestTeeReferenceValues(t *testing.T) {
	ta := newTestApp(t)
	dir := teeSamples(t)
	rv := filepath.Join(dir, "rv.json")
	ta.mustRun(t, "tee", "reference-values", filepath.Join(dir, "nitro.cose"), "--at", at(teetest.NitroAt), "--out", rv)
	f, err := os.Open(rv)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := tee.LoadReferenceValues(f)
	if err != nil {
		t.Fatalf("derived document does not load: %v", err)
	}
	if len(doc.Platforms[tee.Nitro].Measurements["pcr0"]) != 1 {
		t.Errorf("derived pcr0 values: %v", doc.Platforms[tee.Nitro].Measurements["pcr0"])
	}
	ta.mustRun(t, "tee", "verify", filepath.Join(dir, "nitro.cose"), "--at", at(teetest.NitroAt), "--reference-values", rv)
	// The debug enclave's PCRs are zeros: not among the derived values.
	dbg := writeBytes(t, filepath.Join(dir, "debug.cose"), teetest.NitroDebugDocument())
	if code := ta.run("tee", "verify", dbg, "--at", at(teetest.NitroAt), "--allow-debug-unsafe", "--reference-values", rv); code != ExitRejected {
		t.Errorf("debug enclave against production values: exit %d, want %d (%s)", code, ExitRejected, ta.errOut)
	}
	if !strings.Contains(ta.errOut.String(), "nitro: pcr0: measurement does not match") {
		t.Errorf("stderr: %s", ta.errOut)
	}
	// Reference values are only derived from evidence that verifies.
	if code := ta.run("tee", "reference-values", filepath.Join(dir, "nitro.cose")); code != ExitRejected {
		t.Errorf("reference-values from expired evidence: exit %d, want %d", code, ExitRejected)
	}
}
