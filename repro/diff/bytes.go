package diff

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

type byteRange struct{ off, n int64 }

// diffRanges scans two random-access inputs and returns up to max differing
// byte ranges; ranges closer than 16 bytes are merged.
func diffRanges(ctx context.Context, ra io.ReaderAt, sa int64, rb io.ReaderAt, sb int64, max int) ([]byteRange, error) {
	const chunk = 256 << 10
	bufA, bufB := make([]byte, chunk), make([]byte, chunk)
	common := min(sa, sb)
	var out []byteRange
	for base := int64(0); base < common; base += chunk {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n := int(min(chunk, common-base))
		if _, err := ra.ReadAt(bufA[:n], base); err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		if _, err := rb.ReadAt(bufB[:n], base); err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		a, b := bufA[:n], bufB[:n]
		if string(a) == string(b) {
			continue
		}
		for i := 0; i < n; i++ {
			if a[i] == b[i] {
				continue
			}
			off := base + int64(i)
			if k := len(out) - 1; k >= 0 && off-(out[k].off+out[k].n) < 16 {
				out[k].n = off - out[k].off + 1
				continue
			}
			if len(out) == max {
				return out, nil
			}
			out = append(out, byteRange{off, 1})
		}
	}
	if sa != sb && len(out) < max {
		out = append(out, byteRange{common, max64(sa, sb) - common})
	}
	return out, nil
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

func window(r io.ReaderAt, size, off, n int64) []byte {
	if off < 0 {
		off = 0
	}
	n = min(n, size-off)
	if n <= 0 {
		return nil
	}
	buf := make([]byte, n)
	k, _ := r.ReadAt(buf, off)
	return buf[:k]
}

// compareBytes reports the first differing byte ranges of a and b.
func (c *comparer) compareBytes(ctx context.Context, p string, a, b *source) error {
	ra, sa, err := c.randomAccess(ctx, a)
	if err != nil {
		return c.soft(p, "read A", err)
	}
	rb, sb, err := c.randomAccess(ctx, b)
	if err != nil {
		return c.soft(p, "read B", err)
	}
	d := c.explainRanges(ctx, ra, sa, rb, sb, false)
	if d == nil {
		return ctx.Err()
	}
	d.Path = p
	c.add(*d)
	return nil
}

// explainRanges builds a KindBytes difference for two random-access inputs,
// or returns nil when they are equal. textOnly restricts cause inference to
// printable context (see classifyBinary).
func (c *comparer) explainRanges(ctx context.Context, ra io.ReaderAt, sa int64, rb io.ReaderAt, sb int64, textOnly bool) *Difference {
	ranges, err := diffRanges(ctx, ra, sa, rb, sb, c.cfg.maxRanges)
	if err != nil || len(ranges) == 0 {
		return nil
	}
	now := c.cfg.now()
	d := &Difference{Kind: KindBytes, Offset: ranges[0].off}
	var parts []string
	for i, r := range ranges {
		const ctxBytes = 256
		start := r.off - ctxBytes
		if start < 0 {
			start = 0
		}
		n := min(r.n, 4096)
		wa := window(ra, sa, start, r.off-start+n+ctxBytes)
		wb := window(rb, sb, start, r.off-start+n+ctxBytes)
		for _, cause := range classifyBinary(wa, wb, start, r.off, n, now, textOnly) {
			if !slices.Contains(d.Causes, cause) {
				d.Causes = append(d.Causes, cause)
			}
		}
		if i == 0 {
			d.A, d.B = render(wa, start, r.off, n), render(wb, start, r.off, n)
		}
		parts = append(parts, fmt.Sprintf("%d+%d", r.off, r.n))
	}
	d.Detail = fmt.Sprintf("sizes %d and %d; differing ranges (offset+length): %s", sa, sb, strings.Join(parts, ", "))
	if len(ranges) == c.cfg.maxRanges {
		d.Detail += ", ..."
	}
	return d
}

// render shows up to 32 differing bytes, as text when printable.
func render(w []byte, start, off, n int64) string {
	s, e := int(off-start), int(off-start+min(n, 32))
	if s >= len(w) {
		return "(end of file)"
	}
	e = min(e, len(w))
	seg := w[s:e]
	if t := printableAround(w, s, e); t != "" && len(t) <= 96 {
		return fmt.Sprintf("%q", t)
	}
	return hex.EncodeToString(seg)
}
