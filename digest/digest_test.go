package digest_test

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/mod/sumdb/dirhash"

	"github.com/hallmark-dev/hallmark/digest"
)

func sum256(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
func sum512(b []byte) string { s := sha512.Sum512(b); return hex.EncodeToString(s[:]) }

func write(t *testing.T, dir, rel, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFile(t *testing.T) {
	dir := t.TempDir()
	// Larger than the streaming buffer, so several reads are needed.
	big := strings.Repeat("hallmark-", 300_000)
	tests := []struct {
		name    string
		content string
		algs    []string
		want    digest.Set
	}{
		{"empty default", "", nil, digest.Set{digest.SHA256: sum256(nil)}},
		{"abc both", "abc", []string{digest.SHA256, digest.SHA512}, digest.Set{digest.SHA256: sum256([]byte("abc")), digest.SHA512: sum512([]byte("abc"))}},
		{"multi-buffer", big, []string{digest.SHA256}, digest.Set{digest.SHA256: sum256([]byte(big))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, tt.name)
			if err := os.WriteFile(p, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := digest.File(p, tt.algs...)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("File() mismatch (-want +got):\n%s", d)
			}
		})
	}
}

func TestFileErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := digest.File(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("File(missing) error = %v, want ErrNotExist", err)
	}
	write(t, dir, "f", "x")
	if _, err := digest.File(filepath.Join(dir, "f"), digest.GitCommit); !errors.Is(err, digest.ErrUnknownAlgorithm) {
		t.Errorf("File(gitCommit) error = %v, want ErrUnknownAlgorithm", err)
	}
}

func TestTree(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	files := map[string]string{
		"a.txt":              "alpha",
		"sub/b.go":           "package b",
		"sub/deep/c.bin":     strings.Repeat("\x00\x01", 5000),
		"build/out.o":        "ignored by root .gitignore",
		"sub/x.log":          "ignored by nested .gitignore",
		"sub/keep.log":       "re-included by negation",
		"vendor/dep/d.go":    "excluded by option",
		".git/HEAD":          "never walked",
		".gitignore":         "build/\n# comment\n",
		"sub/.gitignore":     "*.log\n!keep.log\n",
		"sub/deep/e.txt":     "echo",
		"notes/readme.md":    "notes",
		"notes/.hidden":      "hidden files are hashed",
		"sub/deep/empty.txt": "",
	}
	for rel, c := range files {
		write(t, dir, rel, c)
	}
	write(t, outside, "secret", "outside the tree")
	links := map[string]string{
		"link-in":       "sub/b.go",
		"sub/link-up":   "../a.txt",
		"link-abs":      filepath.Join(outside, "secret"),
		"sub/link-out":  "../../" + filepath.Base(outside) + "/secret",
		"notes/dangler": "does-not-exist",
	}
	for rel, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, filepath.FromSlash(rel))); err != nil {
			t.Fatal(err)
		}
	}

	file := func(rel string) digest.Entry {
		return digest.Entry{Path: rel, Kind: digest.KindFile, Size: int64(len(files[rel])), Mode: 0o644,
			Digest: digest.Set{digest.SHA256: sum256([]byte(files[rel]))}}
	}
	link := func(rel string, out bool) digest.Entry {
		return digest.Entry{Path: rel, Kind: digest.KindSymlink, Mode: os.ModeSymlink | 0o777, LinkTarget: links[rel], OutsideTree: out}
	}
	want := &digest.Listing{Entries: []digest.Entry{
		file(".gitignore"), file("a.txt"),
		link("link-abs", true), link("link-in", false),
		file("notes/.hidden"), link("notes/dangler", false), file("notes/readme.md"),
		file("sub/.gitignore"), file("sub/b.go"), file("sub/deep/c.bin"), file("sub/deep/e.txt"), file("sub/deep/empty.txt"),
		file("sub/keep.log"), link("sub/link-out", true), link("sub/link-up", false),
	}}
	for _, workers := range []int{1, 2, 7} {
		got, err := digest.Tree(t.Context(), dir, digest.WithWorkers(workers), digest.WithExcludes("vendor/"))
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("Tree(workers=%d) mismatch (-want +got):\n%s", workers, d)
		}
	}

	t.Run("without gitignore", func(t *testing.T) {
		got, err := digest.Tree(t.Context(), dir, digest.WithoutGitignore())
		if err != nil {
			t.Fatal(err)
		}
		var paths []string
		for _, e := range got.Entries {
			paths = append(paths, e.Path)
		}
		for _, p := range []string{"build/out.o", "sub/x.log", "vendor/dep/d.go"} {
			if !strings.Contains(strings.Join(paths, "\n"), p) {
				t.Errorf("WithoutGitignore: %s missing from %v", p, paths)
			}
		}
	})

	t.Run("max files", func(t *testing.T) {
		_, err := digest.Tree(t.Context(), dir, digest.WithMaxFiles(3))
		if !errors.Is(err, digest.ErrTooManyFiles) {
			t.Errorf("error = %v, want ErrTooManyFiles", err)
		}
	})

	t.Run("canceled", func(t *testing.T) {
		ctx, cancel := contextWithCancel(t)
		cancel()
		if _, err := digest.Tree(ctx, dir); err == nil {
			t.Error("Tree on a canceled context succeeded")
		}
	})
}

// TestDirHashMatchesGoDirhash cross-checks DirHash against the Go module
// dirhash (h1) over the same regular files.
func TestDirHashMatchesGoDirhash(t *testing.T) {
	dir := t.TempDir()
	for _, rel := range []string{"go.mod", "main.go", "internal/x/x.go", "z/long name.txt"} {
		write(t, dir, rel, "content of "+rel)
	}
	l, err := digest.Tree(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	h1, err := dirhash.HashDir(dir, "", dirhash.Hash1)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(h1, "h1:"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := l.DirHash(), hex.EncodeToString(raw); got != want {
		t.Errorf("DirHash() = %s, want %s (from %s)", got, want, h1)
	}
}

func TestOptionsValidated(t *testing.T) {
	dir := t.TempDir()
	for name, opt := range map[string]digest.TreeOption{
		"workers":   digest.WithWorkers(0),
		"max files": digest.WithMaxFiles(0),
		"algorithm": digest.WithAlgorithms("md4"),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := digest.Tree(t.Context(), dir, opt); err == nil {
				t.Error("invalid option accepted")
			}
		})
	}
}
