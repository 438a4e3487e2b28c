package build

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/provenance"
)

// knownTools are program names looked up on the build's PATH when a word
// of the command names them, so that `sh -c "make && go build"` records
// make and go. Programs a script runs without naming them in the command
// are not seen; see docs/build.md.
var knownTools = []string{
	"go", "gofmt", "make", "cmake", "ninja", "bazel", "cc", "gcc", "g++", "clang", "clang++", "ld",
	"cargo", "rustc", "node", "npm", "npx", "yarn", "pnpm", "python", "python3", "pip", "pip3", "poetry",
	"java", "javac", "mvn", "gradle", "sh", "bash", "dotnet", "zig",
}

// goTools are the programs in GOTOOLDIR that `go build` runs (vet and
// the others run only for go vet/test and are not recorded).
var goTools = []string{"compile", "link", "asm", "cgo"}

// lookPath resolves a command name against the given PATH value (the
// build's, not the caller's), relative names against dir.
func lookPath(name, path, dir string) (string, error) {
	if strings.Contains(name, "/") {
		p := name
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		if isExecutable(p) {
			return p, nil
		}
		return "", fmt.Errorf("%w: %s is not an executable file", ErrCommandNotFound, p)
	}
	for _, d := range filepath.SplitList(path) {
		if d == "" || !filepath.IsAbs(d) {
			continue // relative PATH entries are ignored for safety
		}
		if p := filepath.Join(d, name); isExecutable(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: %q on PATH %q", ErrCommandNotFound, name, path)
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// commandWords splits the argv, and the script of a `sh -c` style
// argument, into words that might name programs.
func commandWords(argv []string) []string {
	var words []string
	for _, a := range argv {
		for _, w := range strings.FieldsFunc(a, func(r rune) bool {
			return strings.ContainsRune(" \t\n;&|()`$<>\"'", r)
		}) {
			words = append(words, filepath.Base(w))
		}
	}
	return words
}

// toolchainPaths lists the resolved command and the known tools its words
// name, plus the Go compiler, assembler, linker and cgo when go is named,
// resolved through symlinks so the recorded file is the one that runs. It
// also returns GOROOT when go is named.
func toolchainPaths(ctx context.Context, resolved string, argv []string, path, dir string, env []string) ([]string, string, error) {
	paths := []string{resolved}
	goroot := ""
	words := commandWords(argv)
	for _, name := range knownTools {
		if !slices.Contains(words, name) {
			continue
		}
		p, err := lookPath(name, path, dir)
		if err != nil {
			continue
		}
		paths = append(paths, p)
		if name == "go" {
			gr, tooldir, err := goEnv(ctx, p, dir, env)
			if err != nil {
				return nil, "", err
			}
			goroot = gr
			for _, t := range goTools {
				if tp := filepath.Join(tooldir, t); isExecutable(tp) {
					paths = append(paths, tp)
				}
			}
		}
	}
	var out []string
	for _, p := range paths {
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			return nil, "", fmt.Errorf("resolve toolchain binary %s: %w", p, err)
		}
		if !slices.Contains(out, real) {
			out = append(out, real)
		}
	}
	return out, goroot, nil
}

// hashTools hashes the toolchain binaries in parallel.
func hashTools(paths []string) ([]provenance.Artifact, error) {
	out := make([]provenance.Artifact, len(paths))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, p := range paths {
		g.Go(func() error {
			d, err := digest.File(p)
			if err != nil {
				return err
			}
			out[i] = provenance.Artifact{Name: p, Digest: d}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

func goEnv(ctx context.Context, gobin, dir string, env []string) (goroot, tooldir string, err error) {
	cmd := exec.CommandContext(ctx, gobin, "env", "GOROOT", "GOTOOLDIR")
	cmd.Env, cmd.Dir = env, dir
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		return "", "", fmt.Errorf("%s env GOROOT GOTOOLDIR: %w", gobin, err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		return "", "", fmt.Errorf("%s env: unexpected output %q", gobin, out.String())
	}
	return lines[0], lines[1], nil
}
