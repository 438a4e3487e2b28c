package digest

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5/plumbing/format/gitignore"

	"github.com/hallmark-dev/hallmark/internal/limits"
)

// Kind says what a tree entry is.
type Kind string

// Entry kinds.
const (
	KindFile    Kind = "file"
	KindSymlink Kind = "symlink"
)

// maxIgnoreFile bounds the size of a .gitignore file read during a walk.
const maxIgnoreFile = 1 << 20

// ErrTooManyFiles reports a tree with more entries than the configured
// limit; errors.Is also matches limits.ErrTooLarge.
var ErrTooManyFiles = limits.NewTooLarge("digest: tree has too many entries")

// Entry is one file or symbolic link found in a tree.
type Entry struct {
	// Path is slash-separated and relative to the tree root.
	Path string `json:"path"`
	// Kind is KindFile or KindSymlink.
	Kind Kind `json:"kind"`
	// Size is the number of bytes hashed (files only).
	Size int64 `json:"size,omitempty"`
	// Mode holds the permission bits.
	Mode fs.FileMode `json:"mode"`
	// Digest is set for files only.
	Digest Set `json:"digest,omitempty"`
	// LinkTarget is the target text of a symbolic link, never followed.
	LinkTarget string `json:"linkTarget,omitempty"`
	// OutsideTree marks a symbolic link whose target resolves outside the root.
	OutsideTree bool `json:"outsideTree,omitempty"`
}

// Listing is the result of hashing a tree: entries sorted by Path.
type Listing struct {
	Entries []Entry `json:"entries"`
}

// DirHash summarises the regular files of the listing: the hex SHA-256 of
// the lines "<sha256 hex>  <path>\n" in path order. For a tree of regular
// files this is the hex form of the h1 hash of golang.org/x/mod/sumdb/dirhash.
// It returns "" when the listing was hashed without sha256.
func (l *Listing) DirHash() string {
	h := sha256.New()
	for _, e := range l.Entries {
		if e.Kind != KindFile {
			continue
		}
		d, ok := e.Digest[SHA256]
		if !ok {
			return ""
		}
		fmt.Fprintf(h, "%s  %s\n", d, e.Path)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TreeOption configures [Tree].
type TreeOption func(*treeConfig) error

type treeConfig struct {
	workers   int
	gitignore bool
	excludes  []string
	maxFiles  int
	algs      []string
}

// WithWorkers sets the number of hashing goroutines (default GOMAXPROCS).
func WithWorkers(n int) TreeOption {
	return func(c *treeConfig) error {
		if n < 1 {
			return fmt.Errorf("digest: workers must be at least 1, got %d", n)
		}
		c.workers = n
		return nil
	}
}

// WithoutGitignore hashes paths even when a .gitignore file excludes them.
func WithoutGitignore() TreeOption {
	return func(c *treeConfig) error { c.gitignore = false; return nil }
}

// WithExcludes adds gitignore-syntax patterns applied from the tree root,
// with a higher priority than any .gitignore file in the tree.
func WithExcludes(patterns ...string) TreeOption {
	return func(c *treeConfig) error { c.excludes = append(c.excludes, patterns...); return nil }
}

// WithMaxFiles bounds the number of entries in the tree (default 1,000,000).
func WithMaxFiles(n int) TreeOption {
	return func(c *treeConfig) error {
		if n < 1 {
			return fmt.Errorf("digest: max files must be at least 1, got %d", n)
		}
		c.maxFiles = n
		return nil
	}
}

// WithAlgorithms sets the algorithms computed per file (default sha256).
func WithAlgorithms(algs ...string) TreeOption {
	return func(c *treeConfig) error {
		for _, a := range algs {
			if _, err := newHash(a); err != nil {
				return err
			}
		}
		c.algs = algs
		return nil
	}
}

// Tree hashes every regular file under dir in parallel and records every
// symbolic link without following it. The .git directory is always skipped;
// paths excluded by .gitignore files are skipped unless [WithoutGitignore]
// is given. Entries are returned sorted by path.
func Tree(ctx context.Context, dir string, opts ...TreeOption) (*Listing, error) {
	cfg := treeConfig{workers: runtime.GOMAXPROCS(0), gitignore: true, maxFiles: 1_000_000, algs: []string{SHA256}}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	root, err := limits.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("digest: open tree %s: %w", dir, err)
	}
	defer root.Close()

	w := walker{root: root, cfg: &cfg}
	for _, p := range cfg.excludes {
		w.excludes = append(w.excludes, gitignore.ParsePattern(p, nil))
	}
	if err := w.walk(ctx, ".", nil, nil); err != nil {
		return nil, fmt.Errorf("digest: walk %s: %w", dir, err)
	}
	if err := hashFiles(ctx, root, w.entries, &cfg); err != nil {
		return nil, fmt.Errorf("digest: tree %s: %w", dir, err)
	}
	slices.SortFunc(w.entries, func(a, b Entry) int { return strings.Compare(a.Path, b.Path) })
	return &Listing{Entries: w.entries}, nil
}

// Files hashes the named files of the tree at dir (slash paths relative to
// it) through an os.Root, the way [Tree] hashes the files of a walk: a
// symbolic link is never followed, and a name that is a link, missing or
// not a regular file is left out. It returns the SHA-256 hex of each file
// by name: how a rebuild hashes the products a provenance names.
func Files(ctx context.Context, dir string, names []string) (map[string]string, error) {
	root, err := limits.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("digest: open tree %s: %w", dir, err)
	}
	defer root.Close()
	var entries []Entry
	for _, n := range names {
		fi, err := root.Lstat(filepath.FromSlash(n))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("digest: %s: %w", n, err)
		}
		if fi.Mode().IsRegular() {
			entries = append(entries, Entry{Path: n, Kind: KindFile, Mode: fi.Mode().Perm()})
		}
	}
	cfg := treeConfig{workers: runtime.GOMAXPROCS(0), algs: []string{SHA256}}
	if err := hashFiles(ctx, root, entries, &cfg); err != nil {
		return nil, fmt.Errorf("digest: tree %s: %w", dir, err)
	}
	out := make(map[string]string, len(entries))
	for _, e := range entries {
		out[e.Path] = e.Digest[SHA256]
	}
	return out, nil
}

type walker struct {
	root     *os.Root
	cfg      *treeConfig
	excludes []gitignore.Pattern
	entries  []Entry
}

// walk lists dir (slash path relative to the root; components in domain)
// depth first. Ignore patterns from ancestors come in inherited; the
// command-line excludes keep the highest priority by being re-appended.
func (w *walker) walk(ctx context.Context, dir string, domain []string, inherited []gitignore.Pattern) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	pats := inherited
	if w.cfg.gitignore {
		local, err := w.readIgnore(dir, domain)
		if err != nil {
			return err
		}
		if len(local) > 0 {
			pats = slices.Concat(inherited, local)
		}
	}
	// Explicit excludes win over any .gitignore: the matcher tries the last
	// patterns first.
	m := gitignore.NewMatcher(slices.Concat(pats, w.excludes))

	f, err := w.root.Open(dir)
	if err != nil {
		return err
	}
	des, err := f.ReadDir(-1)
	f.Close()
	if err != nil {
		return fmt.Errorf("list %s: %w", dir, err)
	}
	slices.SortFunc(des, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	for _, de := range des {
		name := de.Name()
		rel := path.Join(dir, name)
		comps := append(slices.Clone(domain), name)
		t := de.Type()
		if t.IsDir() {
			if name == ".git" || m.Match(comps, true) {
				continue
			}
			if err := w.walk(ctx, rel, comps, pats); err != nil {
				return err
			}
			continue
		}
		if m.Match(comps, false) {
			continue
		}
		if len(w.entries) >= w.cfg.maxFiles {
			return fmt.Errorf("%w (limit %d)", ErrTooManyFiles, w.cfg.maxFiles)
		}
		switch {
		case t&fs.ModeSymlink != 0:
			target, err := w.root.Readlink(rel)
			if err != nil {
				return fmt.Errorf("readlink %s: %w", rel, err)
			}
			w.entries = append(w.entries, Entry{Path: rel, Kind: KindSymlink, Mode: fs.ModeSymlink | 0o777,
				LinkTarget: target, OutsideTree: escapes(dir, target)})
		case t.IsRegular():
			info, err := de.Info()
			if err != nil {
				return fmt.Errorf("stat %s: %w", rel, err)
			}
			w.entries = append(w.entries, Entry{Path: rel, Kind: KindFile, Mode: info.Mode().Perm()})
		}
		// Devices, sockets and pipes carry no content to hash; they are skipped.
	}
	return nil
}

func (w *walker) readIgnore(dir string, domain []string) ([]gitignore.Pattern, error) {
	// A .gitignore that is a FIFO or device is ignored, without opening
	// it in blocking mode.
	f, err := limits.OpenFileIn(w.root, path.Join(dir, ".gitignore"))
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, limits.ErrNotRegular) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var ps []gitignore.Pattern
	sc := bufio.NewScanner(io.LimitReader(f, maxIgnoreFile))
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		ps = append(ps, gitignore.ParsePattern(line, domain))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s/.gitignore: %w", dir, err)
	}
	return ps, nil
}

// escapes reports whether a link in dir with the given target resolves,
// lexically, outside the tree root.
func escapes(dir, target string) bool {
	if path.IsAbs(target) || strings.HasPrefix(target, "/") {
		return true
	}
	p := path.Join(dir, target)
	return p == ".." || strings.HasPrefix(p, "../")
}

// hashFiles fills in the digests of the file entries on a worker pool.
func hashFiles(ctx context.Context, root *os.Root, entries []Entry, cfg *treeConfig) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range cfg.workers {
		wg.Go(func() {
			buf := make([]byte, bufSize)
			for i := range jobs {
				if err := hashEntry(root, &entries[i], buf, cfg.algs); err != nil {
					cancel(err)
				}
			}
		})
	}
feed:
	for i := range entries {
		if entries[i].Kind != KindFile {
			continue
		}
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	return nil
}

func hashEntry(root *os.Root, e *Entry, buf []byte, algs []string) error {
	// The walk saw a regular file; limits.OpenFileIn refuses, without
	// blocking, one that was replaced by a FIFO or device since.
	f, err := limits.OpenFileIn(root, e.Path)
	if err != nil {
		return fmt.Errorf("%s changed type during the walk: %w", e.Path, err)
	}
	defer f.Close()
	s, n, err := readerBuf(f, buf, algs...)
	if err != nil {
		return fmt.Errorf("read %s: %w", e.Path, err)
	}
	e.Digest, e.Size = s, n
	return nil
}
