//go:build cgo

package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/tee"
	"github.com/hallmark-dev/hallmark/tee/tpm"
	"github.com/hallmark-dev/hallmark/tee/verifiers"
)

// TestBuildBindsTPMQuote: `build --tee tpm` quotes the TPM (the go-tpm-tools
// simulator with the real GCE event log replayed) with the provenance's
// binding, writes the attestation key for enrolment, and `tee verify` with
// that key accepts the attestation against the provenance.
func TestBuildBindsTPMQuote(t *testing.T) {
	sim := replayedSimulator(t)
	ta := newTestApp(t)
	ta.env["PATH"] = "/usr/bin:/bin"
	ta.OpenTEE = func(_ context.Context, p tee.Platform) (tee.Collector, tee.Verifier, error) {
		if p != tee.TPM {
			return nil, nil, verifiers.ErrNoTEE
		}
		c, err := tpm.NewCollector(sim, tpm.WithEventLog(gceEventLog(t)))
		if err != nil {
			return nil, nil, err
		}
		return verifiers.WithOwnAK(c)
	}
	keyDir := t.TempDir()
	key := filepath.Join(keyDir, "b")
	ta.mustRun(t, "keygen", key)
	t.Chdir(t.TempDir())
	out := t.TempDir()
	ta.mustRun(t, "build", "--key", key+".key", "--out", out, "--output-dir", "dist", "--sandbox", "off", "--tee", "auto", "--", "sh", "-c", "echo app > dist/app")
	if !strings.Contains(ta.errOut.String(), "bound a tpm quote") {
		t.Fatalf("build --tee auto on a TPM: %s", ta.errOut)
	}
	ta.mustRun(t, "tee", "verify", filepath.Join(out, "tee.bundle.json"), "--key", key+".pub",
		"--provenance", filepath.Join(out, "provenance.bundle.json"), "--tpm-ak", filepath.Join(out, "tpm-ak.pub"))
	if !strings.Contains(ta.out.String(), `"platform": "tpm"`) {
		t.Errorf("tee verify output: %s", ta.out)
	}
}
