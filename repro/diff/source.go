package diff

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"github.com/hallmark-dev/hallmark/internal/limits"
)

// source is one side of a comparison: a file on disk, bytes in memory, or a
// stream that can be re-opened (a decompressed member).
type source struct {
	path  string                        // file on disk
	data  []byte                        // in memory when inMem
	inMem bool                          //
	open  func() (io.ReadCloser, error) // re-openable stream otherwise
	size  int64                         // -1 until known
	sum   string                        // "sha256:<hex>" once known
}

func fileSource(path string) *source { return &source{path: path, size: -1} }

func bytesSource(b []byte) *source {
	return &source{data: b, inMem: true, size: int64(len(b))}
}

func (s *source) reader() (io.ReadCloser, error) {
	switch {
	case s.inMem:
		return io.NopCloser(bytes.NewReader(s.data)), nil
	case s.path != "":
		f, err := limits.OpenFile(s.path)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", s.path, err)
		}
		return f, nil
	case s.open != nil:
		return s.open()
	}
	return nil, errors.New("empty source")
}

// digest computes (and caches) the SHA-256 and size of s.
func (c *comparer) digest(ctx context.Context, s *source) (string, error) {
	if s.sum != "" {
		return s.sum, nil
	}
	if s.inMem {
		sum := sha256.Sum256(s.data)
		s.size, s.sum = int64(len(s.data)), "sha256:"+hex.EncodeToString(sum[:])
		return s.sum, nil
	}
	rc, err := s.reader()
	if err != nil {
		return "", err
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.CopyBuffer(h, limits.ContextReader(ctx, rc), make([]byte, 256<<10))
	if err != nil {
		return "", err
	}
	s.size = n
	s.sum = "sha256:" + hex.EncodeToString(h.Sum(nil))
	return s.sum, nil
}

// head returns up to n leading bytes of s.
func head(s *source, n int) ([]byte, error) {
	if s.inMem {
		return s.data[:min(n, len(s.data))], nil
	}
	rc, err := s.reader()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	buf := make([]byte, n)
	k, err := io.ReadFull(rc, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return buf[:k], nil
}

// randomAccess returns s as an io.ReaderAt, materialising a stream into
// memory or a temporary file when needed.
func (c *comparer) randomAccess(ctx context.Context, s *source) (io.ReaderAt, int64, error) {
	if s.inMem {
		return bytes.NewReader(s.data), int64(len(s.data)), nil
	}
	if s.path != "" {
		f, err := limits.OpenFile(s.path)
		if err != nil {
			return nil, 0, fmt.Errorf("open %s: %w", s.path, err)
		}
		c.closers = append(c.closers, f.Close)
		fi, err := f.Stat()
		if err != nil {
			return nil, 0, fmt.Errorf("stat %s: %w", s.path, err)
		}
		return f, fi.Size(), nil
	}
	if err := c.materialise(ctx, s); err != nil {
		return nil, 0, err
	}
	return c.randomAccess(ctx, s)
}

// materialise turns a stream source into an in-memory or temporary-file
// source, so that it can be read at random and re-read cheaply.
func (c *comparer) materialise(ctx context.Context, s *source) error {
	if s.inMem || s.path != "" {
		return nil
	}
	rc, err := s.reader()
	if err != nil {
		return err
	}
	defer rc.Close()
	r := limits.ContextReader(ctx, rc)
	if s.size >= 0 && s.size <= c.cfg.maxMemory {
		data, err := io.ReadAll(io.LimitReader(r, c.cfg.maxMemory+1))
		if err != nil {
			return err
		}
		if int64(len(data)) <= c.cfg.maxMemory {
			s.data, s.inMem = data, true
			return nil
		}
		// The stream is longer than announced: spool what we have and the rest.
		return c.spool(s, io.MultiReader(bytes.NewReader(data), r))
	}
	return c.spool(s, r)
}

func (c *comparer) spool(s *source, r io.Reader) error {
	f, err := os.CreateTemp(c.cfg.tempDir, "hallmark-diff-*")
	if err != nil {
		return fmt.Errorf("spool member: %w", err)
	}
	name := f.Name()
	c.closers = append(c.closers, func() error { return os.Remove(name) })
	if _, err := io.CopyBuffer(f, r, make([]byte, 256<<10)); err != nil {
		f.Close()
		return fmt.Errorf("spool member to %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("spool member to %s: %w", name, err)
	}
	s.path = name
	return nil
}

// limitedReader fails with a LimitError once more than limit bytes are read.
type limitedReader struct {
	r     io.Reader
	n     int64
	limit int64
	what  string
	path  string
}

func (l *limitedReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.n > l.limit {
		return n, &LimitError{What: l.what, Limit: l.limit, Path: l.path}
	}
	return n, err
}

type format int

const (
	fmtBinary format = iota
	fmtText
	fmtGzip
	fmtBzip2
	fmtXz
	fmtZstd
	fmtTar
	fmtZip
	fmtAr
	fmtELF
)

func (f format) String() string {
	return [...]string{"binary", "text", "gzip", "bzip2", "xz", "zstd", "tar", "zip", "ar", "ELF"}[f]
}

// sniff guesses the format of s from its leading bytes.
func sniff(h []byte) format {
	switch {
	case bytes.HasPrefix(h, []byte{0x1f, 0x8b}):
		return fmtGzip
	case bytes.HasPrefix(h, []byte("BZh")) && len(h) > 3 && h[3] >= '1' && h[3] <= '9':
		return fmtBzip2
	case bytes.HasPrefix(h, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		return fmtXz
	case bytes.HasPrefix(h, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return fmtZstd
	case bytes.HasPrefix(h, []byte("PK\x03\x04")), bytes.HasPrefix(h, []byte("PK\x05\x06")):
		return fmtZip
	case bytes.HasPrefix(h, []byte("!<arch>\n")):
		return fmtAr
	case bytes.HasPrefix(h, []byte("\x7fELF")):
		return fmtELF
	case len(h) >= 263 && bytes.Equal(h[257:262], []byte("ustar")):
		return fmtTar
	case isText(h):
		return fmtText
	}
	return fmtBinary
}

func isText(h []byte) bool {
	if bytes.IndexByte(h, 0) >= 0 {
		return false
	}
	// Allow a rune cut at the end of the sniffed prefix.
	for i := 0; i < len(h); {
		r, n := utf8.DecodeRune(h[i:])
		if r == utf8.RuneError && n <= 1 {
			return len(h)-i < utf8.UTFMax && !utf8.FullRune(h[i:])
		}
		i += n
	}
	return true
}
