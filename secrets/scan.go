package secrets

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"

	"github.com/hallmark-dev/hallmark/finding"
	"github.com/hallmark-dev/hallmark/internal/limits"
	"github.com/hallmark-dev/hallmark/secrets/rules"
	"golang.org/x/sync/errgroup"
)

// Scanner scans paths for credentials. Build it once with New (compiling the
// rule set takes a while) and call Scan as often as needed; it is safe for
// concurrent use.
type Scanner struct {
	det     *rules.Detector
	allow   *Allowlist
	lim     Limits
	workers int
	log     *slog.Logger

	progress func(string, int)
	mu       sync.Mutex // guards scanned
	scanned  int
	skip     []string // absolute, symlink-free directories not walked

	// readers and chunks are reused across files (a tree of small files
	// otherwise allocates both per file, and the GC and fresh memory cost
	// more than the reads): *bufio.Reader of readerSize bytes, and *[]byte
	// of chunkSize+1.
	readers, chunks sync.Pool
}

// New prepares a Scanner.
func New(cfg Config) (*Scanner, error) {
	lim, err := cfg.Limits.withDefaults()
	if err != nil {
		return nil, err
	}
	if cfg.Workers < 0 {
		return nil, fmt.Errorf("%w: negative worker count %d", ErrConfig, cfg.Workers)
	}
	var opts []rules.Option
	if cfg.DecodeDepth != nil {
		opts = append(opts, rules.DecodeDepth(*cfg.DecodeDepth))
	}
	det, err := rules.New(opts...)
	if err != nil {
		return nil, err
	}
	s := &Scanner{det: det, allow: cfg.Allowlist, lim: lim, workers: cfg.Workers, log: cfg.Logger, progress: cfg.Progress}
	for _, d := range cfg.SkipDirs {
		if d == "" {
			return nil, fmt.Errorf("%w: empty directory in SkipDirs", ErrConfig)
		}
		s.skip = append(s.skip, canonical(d))
	}
	if s.workers == 0 {
		s.workers = runtime.GOMAXPROCS(0)
	}
	s.readers.New = func() any { return bufio.NewReaderSize(nil, readerSize) }
	s.chunks.New = func() any { b := make([]byte, chunkSize+1); return &b }
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// Scan builds a Scanner from cfg and scans path with it.
func Scan(ctx context.Context, path string, cfg Config) ([]finding.Finding, error) {
	s, err := New(cfg)
	if err != nil {
		return nil, err
	}
	return s.Scan(ctx, path)
}

// Scan scans path, a directory or a file (possibly an archive), and returns
// the findings sorted by location. Locations are relative to path (for a
// file, its base name). Unreadable or malformed parts are reported as
// "hallmark-scan-incomplete" findings, not errors; an error means the scan
// as a whole failed (path missing, context cancelled).
func (s *Scanner) Scan(ctx context.Context, path string) ([]finding.Finding, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("secrets: scanning %s: %w", path, err)
	}
	if !info.IsDir() && !info.Mode().IsRegular() {
		// Opening a FIFO or device would block or never end.
		return nil, fmt.Errorf("secrets: scanning %w", &limits.NotRegularError{Path: path, Mode: info.Mode()})
	}
	var (
		mu  sync.Mutex
		out []finding.Finding
	)
	collect := func(fs []finding.Finding) {
		mu.Lock()
		out = append(out, fs...)
		mu.Unlock()
	}
	if info.IsDir() {
		err = s.scanTree(ctx, path, collect)
	} else {
		err = s.scanSingle(ctx, path, collect)
	}
	if err != nil {
		return nil, err
	}
	return sortFindings(out), nil
}

func (s *Scanner) scanSingle(ctx context.Context, path string, collect func([]finding.Finding)) error {
	// The file was named explicitly: follow a link to it, then open it
	// through a root confined to its directory.
	path, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fmt.Errorf("secrets: scanning %s: %w", path, err)
	}
	root, err := os.OpenRoot(filepath.Dir(path))
	if err != nil {
		return fmt.Errorf("secrets: scanning %s: %w", path, err)
	}
	defer root.Close()
	name := filepath.Base(path)
	collect(s.scanFile(ctx, root, name))
	s.done(name)
	return ctx.Err()
}

// done counts one scanned top-level file and reports progress.
func (s *Scanner) done(name string) {
	if s.progress == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scanned++
	s.progress(name, s.scanned)
}

// treeBatch is how many files of a tree one worker takes at a time.
const treeBatch = 16

// scanTree walks dir through an os.Root and scans its regular files in
// parallel. Symbolic links, devices and .git directories are skipped.
func (s *Scanner) scanTree(ctx context.Context, dir string, collect func([]finding.Finding)) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("secrets: scanning %s: %w", dir, err)
	}
	defer root.Close()
	base := canonical(dir)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.workers)
	// Files go to the workers in batches: a goroutine per file costs a hand-
	// off and the growth of a fresh stack, more than a small file's scan.
	var batch []string
	flush := func() {
		if len(batch) == 0 {
			return
		}
		files := batch
		batch = make([]string, 0, treeBatch)
		g.Go(func() error {
			for _, p := range files {
				if gctx.Err() != nil {
					break
				}
				collect(s.scanFile(gctx, root, p))
				s.done(p)
			}
			return gctx.Err()
		})
	}
	walkErr := fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == "." {
				return err
			}
			collect([]finding.Finding{incomplete(finding.Location{Path: p}, "could not read: "+err.Error())})
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if gctx.Err() != nil {
			return gctx.Err()
		}
		if d.IsDir() {
			if d.Name() == ".git" || (p != "." && s.skipped(filepath.Join(base, filepath.FromSlash(p)))) {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if batch = append(batch, p); len(batch) == treeBatch {
			flush()
		}
		return nil
	})
	flush()
	gErr := g.Wait()
	if err := cmp.Or(walkErr, gErr, ctx.Err()); err != nil {
		return fmt.Errorf("secrets: scanning %s: %w", dir, err)
	}
	return nil
}

// scanFile scans one top-level regular file, with its own limit budget.
func (s *Scanner) scanFile(ctx context.Context, root *os.Root, name string) []finding.Finding {
	f, err := limits.OpenFileIn(root, name)
	if err != nil {
		return []finding.Finding{incomplete(finding.Location{Path: name}, "could not open: "+err.Error())}
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		return nil
	}
	w := &walker{s: s, top: filepath.ToSlash(name)}
	err = w.stream(ctx, nil, f, f, info.Size(), 0)
	if le, ok := errors.AsType[*limitError](err); ok {
		w.note(le.chain, le.msg)
	} else if err != nil && ctx.Err() == nil {
		w.note(nil, "could not read: "+err.Error())
	}
	s.log.Debug("scanned", "path", name, "findings", len(w.out), "expanded", w.expanded)
	return w.out
}

// canonical returns dir as an absolute path with symbolic links resolved
// where it exists, so that two spellings of one directory compare equal.
func canonical(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	return filepath.Clean(dir)
}

// skipped reports whether the directory at abs is one of Config.SkipDirs.
func (s *Scanner) skipped(abs string) bool {
	for _, d := range s.skip {
		if abs == d {
			s.log.Debug("skipped directory", "path", abs)
			return true
		}
	}
	return false
}

func sortFindings(fs []finding.Finding) []finding.Finding {
	slices.SortFunc(fs, func(a, b finding.Finding) int {
		return cmp.Or(
			cmp.Compare(a.Location.Path, b.Location.Path),
			cmp.Compare(a.Location.Member, b.Location.Member),
			cmp.Compare(a.Location.Line, b.Location.Line),
			cmp.Compare(a.Location.Column, b.Location.Column),
			cmp.Compare(a.RuleID, b.RuleID),
		)
	})
	return slices.CompactFunc(fs, func(a, b finding.Finding) bool {
		return a.Location == b.Location && a.RuleID == b.RuleID && a.Evidence == b.Evidence
	})
}
