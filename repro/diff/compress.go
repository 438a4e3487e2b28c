package diff

import (
	"compress/bzip2"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// compareCompressed compares compression headers (gzip) and then the
// decompressed content, read as a re-openable stream.
func (c *comparer) compareCompressed(ctx context.Context, p, name string, f format, a, b *source, depth int) error {
	before := len(c.report.Differences)
	if f == fmtGzip {
		if err := c.compareGzipHeaders(p, a, b); err != nil {
			return err
		}
	}
	inner := decompressedName(name, f)
	ia := &source{size: -1, open: c.decompressor(a, f, join(p, inner))}
	ib := &source{size: -1, open: c.decompressor(b, f, join(p, inner))}
	if err := c.compare(ctx, join(p, inner), inner, ia, ib, depth+1); err != nil {
		return err
	}
	if len(c.report.Differences) == before && ia.sum != "" && ia.sum == ib.sum {
		c.add(Difference{Path: p, Kind: KindMetadata, Field: f.String() + " stream", Offset: -1,
			A: a.sum, B: b.sum, Causes: []Cause{CauseToolchain},
			Detail: "same decompressed content, compressed differently (compression level or compressor version)"})
	}
	return nil
}

func (c *comparer) compareGzipHeaders(p string, a, b *source) error {
	header := func(s *source) (gzip.Header, error) {
		rc, err := s.reader()
		if err != nil {
			return gzip.Header{}, err
		}
		defer rc.Close()
		zr, err := gzip.NewReader(rc)
		if err != nil {
			return gzip.Header{}, fmt.Errorf("%w: gzip: %w", ErrFormat, err)
		}
		return zr.Header, nil
	}
	ha, err := header(a)
	if err != nil {
		return err
	}
	hb, err := header(b)
	if err != nil {
		return err
	}
	fields := func(h gzip.Header) []field {
		return []field{
			{"gzip mtime", fmtTime(h.ModTime), CauseTimestamp},
			{"gzip name", h.Name, ""},
			{"gzip comment", h.Comment, ""},
			{"gzip os", strconv.Itoa(int(h.OS)), CauseToolchain},
			{"gzip extra", fmt.Sprintf("%x", h.Extra), ""},
		}
	}
	c.compareFields(p, fields(ha), fields(hb))
	return nil
}

// decompressor returns a function opening the decompressed content of s,
// bounded by the decompression limit.
func (c *comparer) decompressor(s *source, f format, p string) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) {
		rc, err := s.reader()
		if err != nil {
			return nil, err
		}
		var r io.Reader
		closeInner := func() {}
		switch f {
		case fmtGzip:
			zr, err := gzip.NewReader(rc)
			if err != nil {
				rc.Close()
				return nil, fmt.Errorf("%w: gzip: %w", ErrFormat, err)
			}
			r = zr
		case fmtBzip2:
			r = bzip2.NewReader(rc)
		case fmtXz:
			xr, err := xz.NewReader(rc)
			if err != nil {
				rc.Close()
				return nil, fmt.Errorf("%w: xz: %w", ErrFormat, err)
			}
			r = xr
		case fmtZstd:
			zr, err := zstd.NewReader(rc, zstd.WithDecoderMaxMemory(uint64(min(c.cfg.maxDecompressed, 1<<30))), zstd.WithDecoderConcurrency(1))
			if err != nil {
				rc.Close()
				return nil, fmt.Errorf("%w: zstd: %w", ErrFormat, err)
			}
			r, closeInner = zr, zr.Close
		default:
			rc.Close()
			return nil, fmt.Errorf("%w: not a compressed format: %s", ErrFormat, f)
		}
		return &readCloser{
			Reader: &limitedReader{r: r, limit: c.cfg.maxDecompressed, what: "decompressed size", path: p},
			close:  func() error { closeInner(); return rc.Close() },
		}, nil
	}
}

type readCloser struct {
	io.Reader
	close func() error
}

func (r *readCloser) Close() error { return r.close() }
