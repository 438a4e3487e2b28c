package build

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

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

// goTools are the programs in GOTOOLDIR that `go build` runs.
var goTools = []string{"compile", "link", "asm", "cgo", "buildid", "pack", "vet"}

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

// toolchain hashes the resolved command and the known tools its words name,
// plus the Go compiler and linker when go is named. Paths are resolved
// through symlinks so the recorded file is the one that ran.
func toolchain(ctx context.Context, resolved string, argv []string, path, dir string, env []string) ([]provenance.Artifact, string, error) {
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
	var out []provenance.Artifact
	seen := map[string]bool{}
	for _, p := range paths {
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			return nil, "", fmt.Errorf("resolve toolchain binary %s: %w", p, err)
		}
		if seen[real] {
			continue
		}
		seen[real] = true
		d, err := digest.File(real)
		if err != nil {
			return nil, "", err
		}
		out = append(out, provenance.Artifact{Name: real, Digest: d})
	}
	return out, goroot, nil
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
