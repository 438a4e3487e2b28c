package repro_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/hallmark-dev/hallmark/build/sandbox"
	"github.com/hallmark-dev/hallmark/repro"
)

// initArg makes the test binary double as the sandbox helper, the way the
// hallmark binary wires "__sandbox-init" to sandbox.InitMain.
const initArg = "__sandbox-init"

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == initArg {
		os.Exit(sandbox.InitMain(os.Args[2:]))
	}
	os.Exit(m.Run())
}

func sandboxHelper(t *testing.T) []string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return []string{exe, initArg}
}

// TestRunSandboxed: with WithSandbox, each build runs in the namespace
// sandbox `hallmark build` uses. A build that writes outside its copy of
// the source (here into a host directory) cannot touch the host, and its
// products in the copy are still compared. repro.Run used to run every
// build unisolated (issue 17.5).
func TestRunSandboxed(t *testing.T) {
	outside := t.TempDir()
	marker := filepath.Join(outside, "escaped")
	cmd := []string{"sh", "-c", "mkdir -p dist && cp a.txt dist/x.bin && { echo x > " + marker + " || true; }"}
	opts := []repro.Option{repro.WithWorkDir(t.TempDir()), repro.WithEnv([]string{"PATH=/usr/bin:/bin"}),
		repro.WithProducts("dist/*.bin"), repro.WithoutBisect(), repro.WithVariations(repro.VaryHome, repro.VaryUmask)}
	res, err := repro.Run(t.Context(), sourceTree(t), cmd, append(opts, repro.WithSandbox(repro.Sandbox{Helper: sandboxHelper(t)}))...)
	if se, ok := errors.AsType[*sandbox.SetupError](err); ok {
		t.Skipf("namespaces unavailable here: %v", se)
	}
	if err != nil {
		t.Fatal(err)
	}
	if !res.Sandboxed || res.SandboxFallback != "" || !res.Reproducible {
		t.Errorf("sandboxed %v (fallback %q), reproducible %v; want a sandboxed reproducible run", res.Sandboxed, res.SandboxFallback, res.Reproducible)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("a sandboxed build wrote to the host outside its source copy")
	}

	// The same build without the sandbox does reach the host: the test
	// would prove nothing otherwise.
	res, err = repro.Run(t.Context(), sourceTree(t), cmd, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if res.Sandboxed {
		t.Error("a run without WithSandbox says it was sandboxed")
	}
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("unsandboxed build did not write %s: %v", marker, err)
	}
}

func TestWithSandboxNeedsHelper(t *testing.T) {
	_, err := repro.Run(t.Context(), sourceTree(t), []string{"true"}, repro.WithSandbox(repro.Sandbox{}))
	if !errors.Is(err, repro.ErrInvalid) {
		t.Errorf("WithSandbox without a helper: %v, want ErrInvalid", err)
	}
}
