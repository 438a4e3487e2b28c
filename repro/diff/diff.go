package diff

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
)

// comparer carries the configuration and the report being built for one
// comparison. It never outlives a call to Files or Bytes.
type comparer struct {
	cfg     config
	report  *Report
	closers []func() error
	memUsed int64 // bytes of extracted members held in memory
}

// Files compares the artifacts at paths a and b and explains how they differ.
// It returns an error only when an input cannot be read or ctx is done;
// malformed or oversized content is reported in the Report.
func Files(ctx context.Context, a, b string, opts ...Option) (*Report, error) {
	return run(ctx, a, fileSource(a), b, fileSource(b), opts)
}

// Bytes compares two in-memory artifacts named nameA and nameB.
func Bytes(ctx context.Context, nameA string, a []byte, nameB string, b []byte, opts ...Option) (*Report, error) {
	return run(ctx, nameA, bytesSource(a), nameB, bytesSource(b), opts)
}

func run(ctx context.Context, nameA string, a *source, nameB string, b *source, opts []Option) (*Report, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	c := &comparer{cfg: cfg, report: &Report{A: nameA, B: nameB, Differences: []Difference{}}}
	defer c.close()
	da, err := c.digest(ctx, a)
	if err != nil {
		return nil, fmt.Errorf("diff %s: %w", nameA, err)
	}
	db, err := c.digest(ctx, b)
	if err != nil {
		return nil, fmt.Errorf("diff %s: %w", nameB, err)
	}
	c.report.DigestA, c.report.DigestB = da, db
	c.report.Identical = da == db
	if c.report.Identical {
		return c.report, nil
	}
	if err := c.compare(ctx, "", path.Base(nameA), a, b, 0); err != nil {
		return nil, fmt.Errorf("diff %s %s: %w", nameA, nameB, err)
	}
	return c.report, nil
}

func (c *comparer) close() {
	for i := len(c.closers) - 1; i >= 0; i-- {
		_ = c.closers[i]()
	}
}

// full reports whether no more differences may be recorded.
func (c *comparer) full() bool { return c.report.Truncated }

func (c *comparer) add(d Difference) {
	if len(c.report.Differences) >= c.cfg.maxDifferences {
		c.report.Truncated = true
		return
	}
	c.report.Differences = append(c.report.Differences, d)
}

func (c *comparer) note(format string, args ...any) {
	if len(c.report.Notes) < 100 {
		c.report.Notes = append(c.report.Notes, fmt.Sprintf(format, args...))
	}
}

// join appends an archive member name to a location path.
func join(parent, member string) string {
	if parent == "" {
		return member
	}
	return parent + "!" + member
}

// compare explains the difference between a and b located at p. name is the
// file name of the item (used to name decompressed content).
func (c *comparer) compare(ctx context.Context, p, name string, a, b *source, depth int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if c.full() {
		return nil
	}
	da, err := c.digest(ctx, a)
	if err != nil {
		return c.soft(p, "read A", err)
	}
	db, err := c.digest(ctx, b)
	if err != nil {
		return c.soft(p, "read B", err)
	}
	if da == db {
		return nil
	}
	if depth > c.cfg.maxDepth {
		c.add(Difference{Path: p, Kind: KindContent, A: da, B: db, Offset: -1,
			Detail: fmt.Sprintf("not explained: nesting depth limit %d reached", c.cfg.maxDepth)})
		return nil
	}
	ha, err := head(a, 512)
	if err != nil {
		return c.soft(p, "read A", err)
	}
	hb, err := head(b, 512)
	if err != nil {
		return c.soft(p, "read B", err)
	}
	fa, fb := sniff(ha), sniff(hb)
	before := len(c.report.Differences)
	if fa != fb {
		c.add(Difference{Path: p, Kind: KindFormat, A: fa.String(), B: fb.String(), Offset: -1,
			Detail: "the two sides are different formats"})
		return c.compareBytes(ctx, p, a, b)
	}
	switch fa {
	case fmtGzip, fmtBzip2, fmtXz, fmtZstd:
		err = c.compareCompressed(ctx, p, name, fa, a, b, depth)
	case fmtTar:
		err = c.compareTar(ctx, p, a, b, depth)
	case fmtZip:
		err = c.compareZip(ctx, p, a, b, depth)
	case fmtAr:
		err = c.compareAr(ctx, p, a, b, depth)
	case fmtELF:
		err = c.compareELF(ctx, p, a, b)
	case fmtText:
		err = c.compareText(ctx, p, a, b)
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		c.note("%s: cannot be explained as %s: %v", displayPath(p), fa, err)
	}
	if len(c.report.Differences) == before && !c.full() {
		return c.compareBytes(ctx, p, a, b)
	}
	return nil
}

// soft records a read failure inside an artifact as a note; only a
// cancelled context is returned as an error.
func (c *comparer) soft(p, what string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	c.note("%s: %s: %v", displayPath(p), what, err)
	return nil
}

// decompressedName names the content of a compressed file called name.
func decompressedName(name string, f format) string {
	var exts [][2]string
	switch f {
	case fmtGzip:
		exts = [][2]string{{".tgz", ".tar"}, {".gz", ""}}
	case fmtBzip2:
		exts = [][2]string{{".tbz2", ".tar"}, {".bz2", ""}}
	case fmtXz:
		exts = [][2]string{{".txz", ".tar"}, {".xz", ""}}
	case fmtZstd:
		exts = [][2]string{{".tzst", ".tar"}, {".zst", ""}, {".zstd", ""}}
	}
	for _, e := range exts {
		if base, ok := strings.CutSuffix(name, e[0]); ok && base != "" {
			return base + e[1]
		}
	}
	return name + ".content"
}
