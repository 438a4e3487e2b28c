package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/internal/tooltest"
	"github.com/hallmark-dev/hallmark/tlog"
	"github.com/hallmark-dev/hallmark/tlog/host/hosttest"
	"github.com/hallmark-dev/hallmark/tlog/tlogtest"
)

// cosignLogsDSSEAsHashedRekord skips the test when cosign is older than
// v3 (docs/tlog.md "DSSE entries"): cosign 2.x (sigstore-go 1.1) logs a DSSE envelope in a Rekor v2 log
// as a dsse v0.0.2 entry, which rekor-tiles v2.3.0 and the hosted log
// refuse; cosign 3 (sigstore-go 1.2) logs it as a hashedrekord over the
// envelope's PAE, as Hallmark does.
func cosignLogsDSSEAsHashedRekord(t *testing.T, cosign string) {
	t.Helper()
	out, err := exec.Command(cosign, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("cosign version: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`GitVersion:\s+v(\d+)\.`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("cosign version: no GitVersion in\n%s", out)
	}
	if major, _ := strconv.Atoi(string(m[1])); major < 3 {
		// scripts/tools.sh still pins cosign 2.6.5, whose other tests use
		// flags cosign 3 refuses, so this is a skip even in CI.
		t.Skipf("cosign v%s.x logs DSSE as a dsse entry, which Rekor v2 refuses; needs cosign 3 (go install github.com/sigstore/cosign/v3/cmd/cosign@v3.1.3)", m[1])
	}
}

// TestCosignKeylessLogsToHostedLog: cosign signs a keyless attestation
// through the real Fulcio and logs it in the log `hallmark serve` hosts
// (and timestamps it with its TSA); Hallmark then verifies the bundle with
// the default thresholds, i.e. with a verified log entry, and names the
// identity.
func TestCosignKeylessLogsToHostedLog(t *testing.T) {
	cosign := tooltest.Find(t, "cosign")
	cosignLogsDSSEAsHashedRekord(t, cosign)
	s := hosttest.Start(t)
	f := tlogtest.StartFulcio(t)
	dir := t.TempDir()

	// The hosted root plus the Fulcio CA.
	var hosted, cas map[string]any
	if err := json.Unmarshal(s.Root, &hosted); err != nil {
		t.Fatal(err)
	}
	caRoot, err := tlog.NewRoot(nil, nil, f.CA())
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(caRoot, &cas); err != nil {
		t.Fatal(err)
	}
	hosted["certificateAuthorities"] = cas["certificateAuthorities"]
	b, _ := json.Marshal(hosted)
	rootFile := writeFile(t, filepath.Join(dir, "trusted_root.json"), string(b))

	art := writeFile(t, filepath.Join(dir, "app.tgz"), "release tarball")
	pred := writeFile(t, filepath.Join(dir, "pred.json"), `{"note":"cosign keyless"}`)
	validFor := `{"start": "2020-01-01T00:00:00Z"}`
	sc := writeFile(t, filepath.Join(dir, "signing_config.json"), `{
  "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
  "caUrls": [{"url": "`+f.URL+`", "majorApiVersion": 1, "validFor": `+validFor+`, "operator": "test"}],
  "rekorTlogUrls": [{"url": "`+s.LogURL+`", "majorApiVersion": 2, "validFor": `+validFor+`, "operator": "test"}],
  "tsaUrls": [{"url": "`+s.TSAURL+`", "majorApiVersion": 1, "validFor": `+validFor+`, "operator": "test"}],
  "rekorTlogConfig": {"selector": "ANY"},
  "tsaConfig": {"selector": "ANY"}
}`)
	bundle := filepath.Join(dir, "app.tgz.sigstore.json")
	cmd := exec.Command(cosign, "attest-blob", "--new-bundle-format", "--signing-config", sc, "--trusted-root", rootFile,
		"--identity-token", f.Issuer.Token(t, "release@example.com"),
		"--type", "https://example.com/note/v1", "--predicate", pred, "--bundle", bundle, "--yes", art)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SIGSTORE_NO_CACHE=1", "TUF_ROOT="+t.TempDir(), "HOME="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cosign attest-blob logging to the hosted log: %v\n%s", err, out)
	}

	ta := newTestApp(t)
	trustFile := writeFile(t, filepath.Join(dir, "trust.yaml"), `version: 1
identities:
  - name: release
    issuer: `+f.Issuer.URL+`
    subject: release@example.com
    roles: [builder]
`)
	ta.mustRun(t, "verify", "--trust", trustFile, "--bundle", bundle, "--trusted-root", rootFile, art)
	if out := ta.out.String(); !strings.Contains(out, "log entries verified: 1") || !strings.Contains(out, "identity:release") {
		t.Fatalf("verify of cosign's logged keyless bundle:\n%s", out)
	}
}
