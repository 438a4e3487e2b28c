package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/finding"
	"github.com/hallmark-dev/hallmark/secrets/secretstest"
)

// TestScanSecretsSkipsStore: the evidence store inside the scanned tree
// (its OSV database, signed evidence) is not scanned unless asked, and the
// output says so.
func TestScanSecretsSkipsStore(t *testing.T) {
	aws := secretstest.Canaries(t, 5)[0]
	proj := t.TempDir()
	writeFile(t, filepath.Join(proj, "main.go"), "package main\n")
	store := filepath.Join(proj, DefaultStoreDir)
	if err := os.MkdirAll(filepath.Join(store, "osv"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(store, "osv", "GO-2099-0001.json"), aws.Text)

	ta := newTestApp(t)
	ta.env[StoreEnv] = store
	err := ta.runScanSecrets(t.Context(), scanSecretsOptions{Path: proj, FailOn: "low"})
	if code := exitCode(err); code != ExitOK {
		t.Fatalf("default scan: exit %d (%v), want the store skipped\n%s", code, err, ta.out)
	}
	if !strings.Contains(ta.errOut.String(), "not scanning the evidence store") || !strings.Contains(ta.errOut.String(), "--include-store") {
		t.Errorf("stderr does not say the store was skipped: %q", ta.errOut)
	}

	// The scanned project's own .hallmark is skipped even when this
	// command's store is elsewhere.
	ta = newTestApp(t)
	if code := exitCode(ta.runScanSecrets(t.Context(), scanSecretsOptions{Path: proj, FailOn: "low"})); code != ExitOK {
		t.Fatalf("project store: exit %d, want it skipped", code)
	}

	ta = newTestApp(t)
	ta.env[StoreEnv] = store
	err = ta.runScanSecrets(t.Context(), scanSecretsOptions{Path: proj, FailOn: "low", IncludeStore: true})
	if code := exitCode(err); code != ExitRejected {
		t.Fatalf("--include-store: exit %d (%v), want the canary found", code, err)
	}
	if !strings.Contains(ta.out.String(), ".hallmark/osv/GO-2099-0001.json") {
		t.Errorf("--include-store output lacks the store file:\n%s", ta.out)
	}
	// Through the command line too.
	ta = newTestApp(t)
	ta.env[StoreEnv] = store
	if code := ta.run("scan", "--secrets", proj, "--fail-on", "low", "--include-store"); code != ExitRejected {
		t.Errorf("hallmark scan --secrets --include-store: exit %d, want %d", code, ExitRejected)
	}
}

// TestScanSecretsEncryptedKeys: keys written by keygen are encrypted and
// not findings that fail a gate; an unencrypted private key still is.
func TestScanSecretsEncryptedKeys(t *testing.T) {
	proj := t.TempDir()
	ta := newTestApp(t)
	ta.mustRun(t, "keygen", filepath.Join(proj, "signer"))
	b, err := os.ReadFile(filepath.Join(proj, "signer.key"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "ENCRYPTED SIGSTORE PRIVATE KEY") {
		t.Fatalf("keygen wrote no encrypted Sigstore key:\n%s", b)
	}
	ta = newTestApp(t)
	err = ta.runScanSecrets(t.Context(), scanSecretsOptions{Path: proj, FailOn: "low", Format: "json"})
	if code := exitCode(err); code != ExitOK {
		t.Fatalf("encrypted key: exit %d (%v), want 0\n%s", code, err, ta.out)
	}
	var r finding.Report
	if err := json.Unmarshal(ta.out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) != 1 || !r.Findings[0].Suppressed || !strings.Contains(r.Findings[0].SuppressedReason, "encrypted private key") {
		t.Fatalf("want one suppressed encrypted-key finding, got %+v", r.Findings)
	}

	// A real unencrypted key next to it is a critical finding.
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(proj, "leaked.pem"), string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})))
	ta = newTestApp(t)
	err = ta.runScanSecrets(t.Context(), scanSecretsOptions{Path: proj, FailOn: "critical", Format: "json"})
	if code := exitCode(err); code != ExitRejected {
		t.Fatalf("unencrypted key: exit %d (%v), want %d", code, err, ExitRejected)
	}
	if !strings.Contains(ta.out.String(), "leaked.pem") {
		t.Errorf("unencrypted key not reported:\n%s", ta.out)
	}
}
