package build_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/hallmark-dev/hallmark/build"
)

// BenchmarkRunOverhead measures the fixed cost build.Run adds to a command
// that does nothing (/bin/true), and to `go version` (which adds the Go
// toolchain lookup and hashing), with the sandbox off and on, against the
// bare exec of the same command: clean env, git, tree hash, toolchain
// hashing, log capture, products and, when on, namespace and mount setup.
func BenchmarkRunOverhead(b *testing.B) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		b.Skip("no go on PATH")
	}
	for _, argv := range [][]string{{"/bin/true"}, {gobin, "version"}} {
		b.Run(filepath.Base(argv[0]), func(b *testing.B) { benchOverhead(b, argv) })
	}
}

func benchOverhead(b *testing.B, argv []string) {
	src := b.TempDir()
	for _, f := range []string{"main.go", "go.mod", "README"} {
		if err := os.WriteFile(filepath.Join(src, f), []byte("content of "+f), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	logPath := filepath.Join(b.TempDir(), "log")
	b.Run("bare", func(b *testing.B) {
		for b.Loop() {
			cmd := exec.Command(argv[0], argv[1:]...)
			cmd.Dir, cmd.Env = src, []string{"PATH=/usr/bin:/bin"}
			if err := cmd.Run(); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, mode := range []build.SandboxMode{build.SandboxOff, build.SandboxOn} {
		b.Run("sandbox-"+string(mode), func(b *testing.B) {
			exe, _ := os.Executable()
			for b.Loop() {
				_, err := build.Run(b.Context(), build.Spec{
					Command: argv, SourceDir: src, Env: []string{"PATH=/usr/bin:/bin"},
					LogFile: logPath, Sandbox: mode, SandboxHelper: []string{exe, initArg},
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
