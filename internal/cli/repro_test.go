package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReproCommand(t *testing.T) {
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "in.txt"), "input\n")
	ta := newTestApp(t)
	ta.env["PATH"] = os.Getenv("PATH")
	// A build that records its time zone: not reproducible, culprit timezone.
	code := ta.run("repro", "--source", src, "--vary", "timezone,home,umask", "--explain", "--", "sh", "-c", "date +%z > out.txt")
	if code != ExitRejected {
		t.Fatalf("exit %d, want %d\n%s%s", code, ExitRejected, ta.out, ta.errOut)
	}
	for _, want := range []string{"DIFF out.txt", "not reproducible: broken by timezone", "+++ experiment/out.txt"} {
		if !strings.Contains(ta.out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, ta.out)
		}
	}
	ta.mustRun(t, "repro", "--source", src, "--vary", "timezone", "--", "sh", "-c", "cp in.txt out.txt")
	if !strings.Contains(ta.out.String(), "\nreproducible\n") {
		t.Errorf("want reproducible:\n%s", ta.out)
	}
	if code := ta.run("repro", "--vary", "moonphase", "--", "true"); code != ExitUsage {
		t.Errorf("unknown variation: exit %d, want %d", code, ExitUsage)
	}
}

func TestReproAttest(t *testing.T) {
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "in.txt"), "input\n")
	ta := newTestApp(t)
	ta.env["PATH"] = os.Getenv("PATH")
	dir := t.TempDir()
	key := filepath.Join(dir, "rebuilder")
	ta.mustRun(t, "keygen", key)
	bundle := filepath.Join(dir, "repro.bundle.json")
	ta.mustRun(t, "repro", "--source", src, "--vary", "timezone,umask", "--key", key+".key", "--out", bundle,
		"--rebuilder-id", "https://rebuilder.example/ci-2", "--", "sh", "-c", "cp in.txt out.bin")
	if !strings.Contains(ta.errOut.String(), "attested reproducible (1 subject(s))") {
		t.Errorf("stderr: %s", ta.errOut)
	}
	product := writeFile(t, filepath.Join(dir, "out.bin"), "input\n")
	ta.mustRun(t, "verify", "--key", key+".pub", "--bundle", bundle, "--predicate-type", "https://hallmark.dev/attestation/reproducibility/v1", product)
	if code := ta.run("repro", "--source", src, "--out", bundle, "--", "true"); code != ExitUsage {
		t.Errorf("--out without --key: exit %d, want %d", code, ExitUsage)
	}
}
