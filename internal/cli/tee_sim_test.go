//go:build cgo

package cli

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-eventlog/register"
	"github.com/google/go-eventlog/tcg"
	"github.com/google/go-tpm-tools/simulator"
	"github.com/google/go-tpm/legacy/tpm2"
	"github.com/google/go-tpm/tpmutil"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/tee"
	"github.com/hallmark-dev/hallmark/tee/teetest"
	"github.com/hallmark-dev/hallmark/tee/tpm"
)

// TestTeeVerifyBundleBindsProvenance runs the whole binding path without
// hardware: sign a provenance, quote the TPM simulator with
// sha256(PAE(provenance)) || nonce, sign a TEE attestation carrying the
// quote, and let `hallmark tee verify` check quote, AK and binding.
func TestTeeVerifyBundleBindsProvenance(t *testing.T) {
	ta := newTestApp(t)
	dir := t.TempDir()
	key := filepath.Join(dir, "signer")
	ta.mustRun(t, "keygen", key)
	art := writeFile(t, filepath.Join(dir, "app.bin"), "binary contents")
	prov := filepath.Join(dir, "prov.bundle")
	ta.mustRun(t, "attest", "--key", key+".key", "--predicate-type", "https://slsa.dev/provenance/v1",
		"--predicate", writeFile(t, filepath.Join(dir, "prov.json"), `{"buildDefinition":{"buildType":"https://example.com/b/v1"}}`), "--out", prov, art)
	other := filepath.Join(dir, "other.bundle")
	ta.mustRun(t, "attest", "--key", key+".key", "--predicate-type", "https://slsa.dev/provenance/v1",
		"--predicate", writeFile(t, filepath.Join(dir, "other.json"), `{"buildDefinition":{"buildType":"https://example.com/other/v1"}}`), "--out", other, art)

	pub, err := keys.LoadPublicKeyFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	raw := readFile(t, prov)
	v, err := attest.Verify(t.Context(), raw, attest.NewKeySet(pub))
	if err != nil {
		t.Fatal(err)
	}
	b := tee.BindingFromPAE(v.PAE(), [tee.NonceSize]byte{0xa5})
	rd := b.ReportData()

	sim := replayedSimulator(t)
	c, err := tpm.NewCollector(sim, tpm.WithEventLog(gceEventLog(t)))
	if err != nil {
		t.Fatal(err)
	}
	evidence, err := c.Collect(t.Context(), rd)
	if err != nil {
		t.Fatal(err)
	}
	akPub, err := c.AKPublic()
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(akPub)
	if err != nil {
		t.Fatal(err)
	}
	akFile := writeBytes(t, filepath.Join(dir, "ak.pem"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	pred, err := json.Marshal(tee.NewPredicate(&tee.Claims{Platform: tee.TPM, ReportData: rd[:]}, evidence, b))
	if err != nil {
		t.Fatal(err)
	}
	teeBundle := filepath.Join(dir, "tee.bundle")
	ta.mustRun(t, "attest", "--key", key+".key", "--predicate-type", tee.PredicateType,
		"--predicate", writeBytes(t, filepath.Join(dir, "tee.json"), pred), "--out", teeBundle, art)

	ta.mustRun(t, "tee", "verify", teeBundle, "--key", key+".pub", "--provenance", prov, "--tpm-ak", akFile)
	if !strings.Contains(ta.out.String(), `"platform": "tpm"`) {
		t.Errorf("output: %s", ta.out)
	}
	if code := ta.run("tee", "verify", teeBundle, "--key", key+".pub", "--provenance", other, "--tpm-ak", akFile); code != ExitRejected {
		t.Errorf("binding to another provenance: exit %d, want %d (%s)", code, ExitRejected, ta.errOut)
	}
	if !strings.Contains(ta.errOut.String(), "does not bind the provenance") {
		t.Errorf("stderr: %s", ta.errOut)
	}
	// A TEE attestation about another artifact does not pair with this provenance.
	stray := filepath.Join(dir, "stray.bundle")
	ta.mustRun(t, "attest", "--key", key+".key", "--predicate-type", tee.PredicateType,
		"--predicate", filepath.Join(dir, "tee.json"), "--out", stray, writeFile(t, filepath.Join(dir, "stray.bin"), "another artifact"))
	if code := ta.run("tee", "verify", stray, "--key", key+".pub", "--provenance", prov, "--tpm-ak", akFile); code != ExitRejected {
		t.Errorf("TEE attestation of another artifact: exit %d, want %d (%s)", code, ExitRejected, ta.errOut)
	}
	// Under the default GCE roots the simulator's AK is not trusted.
	if code := ta.run("tee", "verify", teeBundle, "--key", key+".pub", "--provenance", prov); code != ExitRejected {
		t.Errorf("uncertified AK: exit %d, want %d", code, ExitRejected)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gceEventLog(t *testing.T) []byte {
	t.Helper()
	att, err := tpm.ParseAttestation(teetest.TPMAttestation())
	if err != nil {
		t.Fatal(err)
	}
	return att.GetEventLog()
}

// replayedSimulator starts the TPM simulator and extends its SHA-256 PCRs
// with the real GCE event log, so the log replays against its quotes.
func replayedSimulator(t *testing.T) *simulator.Simulator {
	t.Helper()
	sim, err := simulator.Get()
	if err != nil {
		t.Fatalf("start TPM simulator: %v", err)
	}
	t.Cleanup(func() { sim.Close() })
	el, err := tcg.ParseEventLog(gceEventLog(t), tcg.ParseOpts{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range el.Events(register.HashSHA256) {
		if ev.Type == 3 { // EV_NO_ACTION is not extended
			continue
		}
		if err := tpm2.PCRExtend(sim, tpmutil.Handle(ev.Index), tpm2.AlgSHA256, ev.ReplayedDigest(), ""); err != nil {
			t.Fatalf("extend PCR %d: %v", ev.Index, err)
		}
	}
	return sim
}
