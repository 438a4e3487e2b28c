package sbom

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/hallmark-dev/hallmark/internal/limits"
	"github.com/hallmark-dev/hallmark/sbom/internal/lockfile"
)

// supplements reads lockfiles a second time for licences and hashes, once
// per file, confined to the scanned root.
type supplements struct {
	root     *os.Root
	maxSize  int64
	logger   *slog.Logger
	cache    map[string]map[string]lockfile.Facts // location -> name@version -> facts
	problems []Problem
}

func newSupplements(root *os.Root, maxSize int64, logger *slog.Logger) *supplements {
	return &supplements{root: root, maxSize: maxSize, logger: logger, cache: map[string]map[string]lockfile.Facts{}}
}

func (s *supplements) apply(ctx context.Context, c *Component) {
	for _, loc := range c.Locations {
		var decode func([]byte) (map[string]lockfile.Facts, error)
		switch base(loc) {
		case "package-lock.json", "npm-shrinkwrap.json":
			decode = lockfile.NPM
		case "Cargo.lock":
			decode = lockfile.Cargo
		case "pnpm-lock.yaml":
			decode = lockfile.PNPM
		case "yarn.lock":
			decode = lockfile.Yarn
		default:
			continue
		}
		facts, ok := s.cache[loc]
		if !ok {
			data, err := s.read(loc)
			if err == nil {
				facts, err = decode(data)
			}
			if err != nil {
				perr := &ParseError{Path: loc, Err: err}
				s.problems = append(s.problems, Problem{Path: loc, Extractor: "hallmark/lockfacts", Message: perr.Error()})
				s.logger.WarnContext(ctx, "cannot read lockfile metadata", "path", loc, "error", err)
			}
			s.cache[loc] = facts
		}
		f := facts[c.Name+"@"+c.Version]
		c.Licenses = append(c.Licenses, f.Licenses...)
		c.Hashes = append(c.Hashes, f.Hashes...)
		for _, d := range f.Deps {
			c.DependsOn = append(c.DependsOn, loc+"\x00"+d)
		}
	}
}

func (s *supplements) read(loc string) ([]byte, error) {
	f, err := limits.OpenFileIn(s.root, filepath.FromSlash(loc))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return limits.ReadAll(f, s.maxSize, "sbom: "+loc)
}
