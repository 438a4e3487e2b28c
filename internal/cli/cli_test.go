package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testApp is an App over buffers with a fixed clock and environment.
type testApp struct {
	*App
	out, errOut *bytes.Buffer
	env         map[string]string
}

func newTestApp(t *testing.T) *testApp {
	t.Helper()
	ta := &testApp{out: &bytes.Buffer{}, errOut: &bytes.Buffer{}, env: map[string]string{PasswordEnv: "test-pass"}}
	ta.App = &App{
		Stdin: strings.NewReader(""), Stdout: ta.out, Stderr: ta.errOut,
		Getenv:    func(k string) string { return ta.env[k] },
		LookupEnv: func(k string) (string, bool) { v, ok := ta.env[k]; return v, ok },
		Now:       func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) },
	}
	ta.env[StoreEnv] = filepath.Join(t.TempDir(), "store")
	return ta
}

// run runs one command line and returns its exit code; output is kept in
// the buffers until the next run.
func (ta *testApp) run(args ...string) int {
	ta.out.Reset()
	ta.errOut.Reset()
	return Main(context.Background(), ta.App, args)
}

func (ta *testApp) mustRun(t *testing.T, args ...string) {
	t.Helper()
	if code := ta.run(args...); code != 0 {
		t.Fatalf("hallmark %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, ta.out, ta.errOut)
	}
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestKeygenAttestVerifyEvidence(t *testing.T) {
	ta := newTestApp(t)
	dir := t.TempDir()
	key := filepath.Join(dir, "signer")
	ta.mustRun(t, "keygen", key)
	st, err := os.Stat(key + ".key")
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v", st.Mode().Perm())
	}
	art := writeFile(t, filepath.Join(dir, "app.bin"), "binary contents")
	other := writeFile(t, filepath.Join(dir, "other.bin"), "something else")
	pred := writeFile(t, filepath.Join(dir, "pred.json"), `{"note":"hello"}`)
	bundle := filepath.Join(dir, "app.bundle.json")
	ta.mustRun(t, "attest", "--key", key+".key", "--predicate-type", "https://example.com/p/v1", "--predicate", pred, "--out", bundle, art)
	ta.mustRun(t, "verify", "--key", key+".pub", "--bundle", bundle, art)
	if !strings.Contains(ta.out.String(), "verified") {
		t.Errorf("verify output: %s", ta.out)
	}

	if code := ta.run("verify", "--key", key+".pub", "--bundle", bundle, other); code != ExitRejected {
		t.Errorf("verify of another file: exit %d, want %d (%s)", code, ExitRejected, ta.errOut)
	}
	if !strings.Contains(ta.errOut.String(), "not in statement subjects") {
		t.Errorf("subject mismatch message: %s", ta.errOut)
	}

	ta.mustRun(t, "keygen", filepath.Join(dir, "stranger"))
	if code := ta.run("verify", "--key", filepath.Join(dir, "stranger.pub"), "--bundle", bundle, art); code != ExitRejected {
		t.Errorf("verify with an untrusted key: exit %d, want %d", code, ExitRejected)
	}
	if !strings.Contains(ta.errOut.String(), "untrusted key") {
		t.Errorf("unknown key message: %s", ta.errOut)
	}

	garbage := writeFile(t, filepath.Join(dir, "garbage.json"), `{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "dsseEnvelope": {"payload": "%%%", "payloadType": "x", "signatures": [{"sig": "AA=="}]}}`)
	if code := ta.run("verify", "--key", key+".pub", "--bundle", garbage, art); code != ExitBadInput {
		t.Errorf("bad base64: exit %d, want %d (%s)", code, ExitBadInput, ta.errOut)
	}
	if !strings.Contains(ta.errOut.String(), garbage) || !strings.Contains(ta.errOut.String(), "base64") {
		t.Errorf("bad base64 message does not name the input and the problem: %s", ta.errOut)
	}

	ta.mustRun(t, "evidence", "ls", "--format", "json")
	var recs []struct {
		ID            string `json:"id"`
		PredicateType string `json:"predicateType"`
	}
	if err := json.Unmarshal(ta.out.Bytes(), &recs); err != nil {
		t.Fatalf("evidence ls json: %v\n%s", err, ta.out)
	}
	if len(recs) != 1 || recs[0].PredicateType != "https://example.com/p/v1" {
		t.Errorf("stored evidence: %+v", recs)
	}
	ta.mustRun(t, "evidence", "ls", "--subject", "sha256:"+strings.Repeat("0", 64))
	if strings.Contains(ta.out.String(), "https://example.com/p/v1") {
		t.Errorf("subject filter did not filter: %s", ta.out)
	}
	// The old store query took any "ALG:HEX" and found nothing; a digest
	// that is not one is now a usage error that says why.
	if code := ta.run("evidence", "ls", "--subject", "sha256:0000"); code != 2 || !strings.Contains(ta.errOut.String(), "sha256 takes 64 hex digits") {
		t.Errorf("evidence ls --subject sha256:0000: exit %d, %s; want 2 and the digest's problem", code, ta.errOut)
	}
	ta.mustRun(t, "evidence", "ls")
	if !strings.Contains(ta.out.String(), "app.bin") {
		t.Errorf("table lacks the subject: %s", ta.out)
	}
	ta.mustRun(t, "evidence", "show", recs[0].ID)
	if !strings.Contains(ta.out.String(), `"note": "hello"`) && !strings.Contains(ta.out.String(), `"note":"hello"`) {
		t.Errorf("evidence show lacks the predicate: %s", ta.out)
	}
}

func TestKeygenPassphraseRules(t *testing.T) {
	ta := newTestApp(t)
	dir := t.TempDir()
	ta.env[PasswordEnv] = ""
	if code := ta.run("keygen", filepath.Join(dir, "k")); code != ExitUsage {
		t.Errorf("empty passphrase: exit %d, want %d", code, ExitUsage)
	}
	if _, err := os.Stat(filepath.Join(dir, "k.key")); err == nil {
		t.Error("a key was written despite the refusal")
	}
	ta.mustRun(t, "keygen", "--empty-passphrase-unsafe", filepath.Join(dir, "k"))
	delete(ta.env, PasswordEnv)
	if code := ta.run("keygen", filepath.Join(dir, "k2")); code != ExitEnvironment {
		t.Errorf("no passphrase source: exit %d, want %d", code, ExitEnvironment)
	}
	ta.env[PasswordEnv] = "x"
	if code := ta.run("keygen", "--algorithm", "dsa", filepath.Join(dir, "k3")); code != ExitUsage {
		t.Errorf("unknown algorithm: exit %d, want %d", code, ExitUsage)
	}
	for _, alg := range []string{"ed25519", "rsa-3072"} {
		ta.mustRun(t, "keygen", "--algorithm", alg, filepath.Join(dir, alg))
	}
	if code := ta.run("attest", "--nope"); code != ExitUsage {
		t.Errorf("unknown flag: exit %d, want %d", code, ExitUsage)
	}
}
