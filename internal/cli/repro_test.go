package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/repro"
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

// TestReproAttestMarksDirtySource: a reproducibility attestation of a git
// tree names its commit and says when the tree had uncommitted changes, so
// a dirty tree's agreement is never read as the commit's (#16 item 2).
func TestReproAttestMarksDirtySource(t *testing.T) {
	for _, dirty := range []bool{false, true} {
		src := t.TempDir()
		writeFile(t, filepath.Join(src, "in.txt"), "input\n")
		gitIn(t, src, "init", "-q")
		gitIn(t, src, "add", ".")
		gitIn(t, src, "commit", "-q", "-m", "one")
		commit := gitIn(t, src, "rev-parse", "HEAD")
		if dirty {
			writeFile(t, filepath.Join(src, "in.txt"), "changed, not committed\n")
		}
		ta := newTestApp(t)
		ta.env["PATH"] = os.Getenv("PATH")
		dir := t.TempDir()
		key := filepath.Join(dir, "rebuilder")
		ta.mustRun(t, "keygen", key)
		bundle := filepath.Join(dir, "repro.bundle.json")
		ta.mustRun(t, "repro", "--source", src, "--vary", "timezone", "--key", key+".key", "--out", bundle, "--", "sh", "-c", "cp in.txt out.bin")
		raw, err := os.ReadFile(bundle)
		if err != nil {
			t.Fatal(err)
		}
		pub, err := keys.LoadPublicKeyFile(key + ".pub")
		if err != nil {
			t.Fatal(err)
		}
		v, err := attest.Verify(t.Context(), raw, attest.NewKeySet(pub))
		if err != nil {
			t.Fatal(err)
		}
		var p repro.Predicate
		if err := v.DecodePredicate(&p); err != nil {
			t.Fatal(err)
		}
		if p.Source == nil || p.Source.Digest["gitCommit"] != commit || p.Source.Dirty != dirty {
			t.Errorf("dirty=%v: predicate source %+v, want commit %s dirty %v", dirty, p.Source, commit, dirty)
		}
	}
}

// TestReproSandboxed: `hallmark repro` builds in the same sandbox as
// `hallmark build`, so a build cannot write outside its copy of the
// source. It used to run each build unisolated (issue 17.5), and this
// build left its mark on the host.
func TestReproSandboxed(t *testing.T) {
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "in.txt"), "input\n")
	marker := filepath.Join(t.TempDir(), "escaped")
	ta := newTestApp(t)
	ta.env["PATH"] = "/usr/bin:/bin"
	script := "cp in.txt out.txt; echo x > " + marker + " || true"
	code := ta.run("repro", "--source", src, "--sandbox", "on", "--vary", "timezone", "--", "sh", "-c", script)
	if code == ExitEnvironment && strings.Contains(ta.errOut.String(), "sandbox") {
		t.Skipf("no sandbox here: %s", ta.errOut)
	}
	if code != 0 || !strings.Contains(ta.out.String(), "sandbox: each build in Linux namespaces") {
		t.Fatalf("sandboxed repro: exit %d\n%s%s", code, ta.out, ta.errOut)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("a sandboxed repro build wrote to the host outside its source copy")
	}
	ta.mustRun(t, "repro", "--source", src, "--sandbox", "off", "--vary", "timezone", "--", "sh", "-c", script)
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("with --sandbox off the build did not write %s (%v): the test would prove nothing", marker, err)
	}
	if code := ta.run("repro", "--sandbox", "maybe", "--", "true"); code != ExitUsage {
		t.Errorf("--sandbox maybe: exit %d, want %d", code, ExitUsage)
	}
}
