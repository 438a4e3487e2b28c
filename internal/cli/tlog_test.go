package cli

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/tlog/tlogtest"

	"github.com/hallmark-dev/hallmark/internal/tooltest"
)

// TestTlogSignVerify logs and timestamps evidence through the CLI against a
// real rekor-tiles log and timestamp-server, verifies it offline against a
// trusted root written by `hallmark tlog root`, and rejects a bundle whose
// log entry belongs to another bundle and one signed with --tlog off.
// cosign verifies the same bundle when it is installed.
func TestTlogSignVerify(t *testing.T) {
	s := tlogtest.Start(t)
	ta := newTestApp(t)
	dir := t.TempDir()
	key := filepath.Join(dir, "signer")
	ta.mustRun(t, "keygen", key)

	logKey := filepath.Join(dir, "log.pub")
	der, err := x509.MarshalPKIXPublicKey(s.Log.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, logKey, string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})))
	var chain []byte
	for _, c := range s.TSA.Chain {
		chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	chainFile := writeFile(t, filepath.Join(dir, "tsa.pem"), string(chain))
	rootFile := filepath.Join(dir, "trusted_root.json")
	ta.mustRun(t, "tlog", "root", "--log", s.Log.URL, "--log-key", logKey, "--log-valid-from", s.Log.Started.Add(-time.Minute).Format(time.RFC3339),
		"--tsa", s.TSA.URL, "--tsa-chain", chainFile, "--out", rootFile)

	art := writeFile(t, filepath.Join(dir, "app.bin"), "binary contents")
	pred := writeFile(t, filepath.Join(dir, "pred.json"), `{"note":"hello"}`)
	sign := func(name string, extra ...string) string {
		out := filepath.Join(dir, name)
		ta.mustRun(t, append(append([]string{"attest"}, extra...), "--key", key+".key", "--predicate-type", "https://example.com/p/v1", "--predicate", pred, "--out", out, art)...)
		return out
	}
	ta.env[TlogEnv] = s.Log.URL
	ta.env[TSAEnv] = s.TSA.URL
	ta.env[TrustedRootEnv] = rootFile
	logged := sign("logged.json")
	if !strings.Contains(ta.errOut.String(), "logged in "+s.Log.URL) || !strings.Contains(ta.errOut.String(), "verified time") {
		t.Errorf("attest stderr does not report the log and the verified time: %s", ta.errOut)
	}
	other := sign("other.json")
	unlogged := sign("unlogged.json", "--tlog", "off", "--tsa", "off", "--trusted-root", "off")
	if strings.Contains(ta.errOut.String(), "logged in") {
		t.Errorf("--tlog off still logged: %s", ta.errOut)
	}
	delete(ta.env, TrustedRootEnv)

	ta.mustRun(t, "verify", "--trusted-root", rootFile, "--key", key+".pub", "--bundle", logged, art)
	if !strings.Contains(ta.out.String(), "log entries verified: 1") || !strings.Contains(ta.out.String(), "verified time:") {
		t.Errorf("verify output: %s", ta.out)
	}

	// The entry of another bundle: a valid proof, for a different body.
	var a, b map[string]any
	json.Unmarshal(ta.readFile(t, logged), &a)
	json.Unmarshal(ta.readFile(t, other), &b)
	a["verificationMaterial"].(map[string]any)["tlogEntries"] = b["verificationMaterial"].(map[string]any)["tlogEntries"]
	swapped, _ := json.Marshal(a)
	swappedFile := writeFile(t, filepath.Join(dir, "swapped.json"), string(swapped))
	for name, f := range map[string]string{"swapped entry": swappedFile, "--tlog off": unlogged} {
		if code := ta.run("verify", "--trusted-root", rootFile, "--key", key+".pub", "--bundle", f, art); code != ExitRejected {
			t.Errorf("%s: exit %d, want %d\n%s", name, code, ExitRejected, ta.errOut)
		}
		if !strings.Contains(ta.errOut.String(), "transparency") {
			t.Errorf("%s: message %s", name, ta.errOut)
		}
	}
	if code := ta.run("verify", "--trusted-root", rootFile, "--tlog-threshold", "0", "--timestamp-threshold", "0", "--key", key+".pub", "--bundle", unlogged, art); code != ExitOK {
		t.Errorf("thresholds 0: exit %d\n%s", code, ta.errOut)
	}
	if code := ta.run("verify", "--tlog-threshold", "1", "--key", key+".pub", "--bundle", logged, art); code != ExitUsage {
		t.Errorf("threshold without a root: exit %d", code)
	}

	// Monitoring: the first run saves the checkpoint, the next proves the
	// grown log consistent with it, and a leaf tile rewritten on disk is caught.
	ta.mustRun(t, "tlog", "verify", "--trusted-root", rootFile, "--read", s.Log.StorageDir)
	if !strings.Contains(ta.out.String(), "first checkpoint seen") || !strings.Contains(ta.out.String(), "entry in it: 2, all included") {
		t.Errorf("tlog verify: %s", ta.out)
	}
	ta.env[TlogEnv] = s.Log.URL
	sign("third.json")
	delete(ta.env, TlogEnv)
	ta.mustRun(t, "tlog", "verify", "--trusted-root", rootFile, "--read", s.Log.ReadURL)
	if !strings.Contains(ta.out.String(), "consistent with the 2 seen before") || !strings.Contains(ta.out.String(), "entry in it: 3, all included") {
		t.Errorf("tlog verify after growth: %s", ta.out)
	}
	tiles, _ := filepath.Glob(filepath.Join(s.Log.StorageDir, "tile", "0", "000*"))
	if len(tiles) == 0 {
		t.Fatal("no level-0 tile on disk")
	}
	tile := tiles[len(tiles)-1]
	if st, err := os.Stat(tile); err == nil && st.IsDir() {
		inner, _ := filepath.Glob(filepath.Join(tile, "*"))
		tile = inner[len(inner)-1]
	}
	raw := ta.readFile(t, tile)
	raw[0] ^= 1
	writeFile(t, tile, string(raw))
	if code := ta.run("tlog", "verify", "--trusted-root", rootFile, "--read", s.Log.StorageDir); code != ExitRejected {
		t.Errorf("tampered tile: exit %d, want %d\n%s%s", code, ExitRejected, ta.out, ta.errOut)
	}

	t.Run("cosign", func(t *testing.T) {
		cosign := tooltest.Find(t, "cosign")
		cmd := exec.Command(cosign, "verify-blob-attestation", "--new-bundle-format", "--use-signed-timestamps", "--trusted-root", rootFile,
			"--key", key+".pub", "--bundle", logged, "--type", "https://example.com/p/v1", art)
		cmd.Env = append(os.Environ(), "SIGSTORE_NO_CACHE=1", "TUF_ROOT="+t.TempDir())
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("cosign rejects the logged, timestamped bundle: %v\n%s", err, out)
		}
		cmd = exec.Command(cosign, "verify-blob-attestation", "--new-bundle-format", "--use-signed-timestamps", "--trusted-root", rootFile,
			"--key", key+".pub", "--bundle", swappedFile, "--type", "https://example.com/p/v1", art)
		cmd.Env = append(os.Environ(), "SIGSTORE_NO_CACHE=1", "TUF_ROOT="+t.TempDir())
		if out, err := cmd.CombinedOutput(); err == nil {
			t.Fatalf("cosign accepts a bundle with another bundle's log entry:\n%s", out)
		}
	})
}
