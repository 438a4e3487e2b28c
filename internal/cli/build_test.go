package cli

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestMain lets the test binary serve as the sandbox helper, exactly as the
// hallmark binary does through the hidden __sandbox-init command.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == SandboxInitCommand {
		os.Exit(Main(context.Background(), NewOSApp(), os.Args[1:]))
	}
	// Attack tests run the test binary as a separate hallmark process,
	// wired like cmd/hallmark (SIGINT and SIGTERM cancel the context).
	if os.Getenv(asHallmarkEnv) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := Main(ctx, NewOSApp(), os.Args[1:])
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

func TestBuildProvenanceShowVerify(t *testing.T) {
	ta := newTestApp(t)
	ta.env["PATH"] = "/usr/bin:/bin"
	ta.env["CANARY_TOKEN"] = "canary-cli-token-31f0"
	keyDir := t.TempDir()
	key := filepath.Join(keyDir, "builder")
	ta.mustRun(t, "keygen", key)

	src := t.TempDir()
	writeFile(t, filepath.Join(src, "input.txt"), "source")
	t.Chdir(src)
	outDir := filepath.Join(t.TempDir(), "evidence")
	ta.mustRun(t, "build", "--key", key+".key", "--out", outDir, "--output-dir", "dist", "--sandbox", "on",
		"--", "sh", "-c", `env; cat input.txt > dist/app.bin && echo built >> dist/app.bin`)
	if !strings.Contains(ta.errOut.String(), "product dist/app.bin sha256:") {
		t.Errorf("build output: %s", ta.errOut)
	}
	log, err := os.ReadFile(filepath.Join(outDir, "build.log"))
	if err != nil || strings.Contains(string(log), "canary-cli-token") {
		t.Errorf("build log %q (%v) shows a variable that was not allowlisted", log, err)
	}
	bundle := filepath.Join(outDir, "provenance.bundle.json")
	ta.mustRun(t, "provenance", "show", "--key", key+".pub", bundle)
	for _, want := range []string{"built:        dist/app.bin", "command:      sh -c", "isolation:    sandbox (user, mount, pid, uts, ipc, net), network off, source read-only", "builder:      https://hallmark.dev/builders/local/v1"} {
		if !strings.Contains(ta.out.String(), want) {
			t.Errorf("provenance show lacks %q:\n%s", want, ta.out)
		}
	}
	ta.mustRun(t, "verify", "--key", key+".pub", "--bundle", bundle, filepath.Join(src, "dist", "app.bin"))
	if code := ta.run("verify", "--key", key+".pub", "--bundle", bundle, filepath.Join(src, "input.txt")); code != ExitRejected {
		t.Errorf("verify of a non-product: exit %d, want %d", code, ExitRejected)
	}
}

func TestBuildFailureExitCode(t *testing.T) {
	ta := newTestApp(t)
	ta.env["PATH"] = "/usr/bin:/bin"
	t.Chdir(t.TempDir())
	outDir := t.TempDir()
	if code := ta.run("build", "--out", outDir, "--sandbox", "off", "--", "sh", "-c", "exit 7"); code != 7 {
		t.Errorf("exit %d, want the command's 7 (%s)", code, ta.errOut)
	}
	if _, err := os.Stat(filepath.Join(outDir, "provenance.json")); err == nil {
		t.Error("a failed build wrote provenance")
	}
	if code := ta.run("build", "--sandbox", "maybe", "--", "true"); code != ExitUsage {
		t.Errorf("bad --sandbox: exit %d, want %d", code, ExitUsage)
	}
}

// TestBuildNeverRecordsAllowlistedSecrets: a credential passed through to
// the build on purpose (by name or by value shape) is used but never
// written into the provenance.
func TestBuildNeverRecordsAllowlistedSecrets(t *testing.T) {
	ta := newTestApp(t)
	ta.env["PATH"] = "/usr/bin:/bin"
	ta.env["DEPLOY_NOTE"] = "ghp_" + strings.Repeat("Ab1", 12) // value shape of a GitHub token
	ta.env["NPM_AUTH"] = "canary-npm-auth-value-9d2e"          // name of a credential
	ta.env["BUILD_FLAVOUR"] = "release"                        // ordinary
	t.Chdir(t.TempDir())
	out := t.TempDir()
	ta.mustRun(t, "build", "--out", out, "--output-dir", "dist", "--sandbox", "off",
		"--env", "DEPLOY_NOTE", "--env", "NPM_AUTH", "--env", "BUILD_FLAVOUR", "--", "sh", "-c", `echo "$BUILD_FLAVOUR" > dist/a`)
	prov, err := os.ReadFile(filepath.Join(out, "provenance.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, canary := range []string{ta.env["DEPLOY_NOTE"], ta.env["NPM_AUTH"]} {
		if strings.Contains(string(prov), canary) {
			t.Errorf("provenance records a secret value %q", canary)
		}
	}
	if !strings.Contains(string(prov), `"BUILD_FLAVOUR"`) || !strings.Contains(string(prov), "release") || !strings.Contains(string(prov), "redactedEnv") {
		t.Errorf("provenance env:\n%s", prov)
	}
}
