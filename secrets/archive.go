package secrets

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	"github.com/hallmark-dev/hallmark/finding"
	"github.com/hallmark-dev/hallmark/internal/limits"
	"github.com/klauspost/compress/zstd"
)

// kind is what the first bytes of a stream say it is.
type kind int

const (
	kindPlain kind = iota
	kindGzip
	kindZstd
	kindBzip2
	kindTar
	kindZip
)

var kindNames = [...]string{"file", "gzip stream", "zstd stream", "bzip2 stream", "tar archive", "zip archive"}

func (k kind) String() string { return kindNames[k] }

// sniffLen is how many leading bytes sniff needs (tar's magic is at 257).
const sniffLen = 512

// readerSize is the buffer of the reader over each stream.
const readerSize = 64 << 10

// sniff recognises archives and compressed streams by their magic numbers,
// not their names, so a renamed or extension-less blob (an OCI layer) is
// still opened.
func sniff(head []byte) kind {
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return kindGzip
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return kindZstd
	case len(head) >= 10 && bytes.HasPrefix(head, []byte("BZh")) && head[3] >= '1' && head[3] <= '9' &&
		bytes.Equal(head[4:10], []byte{0x31, 0x41, 0x59, 0x26, 0x53, 0x59}):
		return kindBzip2
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return kindZip
	case len(head) >= 262 && bytes.Equal(head[257:262], []byte("ustar")):
		return kindTar
	}
	return kindPlain
}

// limitError stops the scan of one top-level file when a limit is reached.
type limitError struct {
	chain []string
	msg   string
}

func (e *limitError) Error() string { return e.msg }

// walker scans one top-level file and everything nested in it. It is used
// by one goroutine only.
type walker struct {
	s        *Scanner
	top      string
	out      []finding.Finding
	expanded int64
	members  int
}

func (w *walker) loc(chain []string) finding.Location {
	return finding.Location{Path: w.top, Member: strings.Join(chain, "!")}
}

func (w *walker) note(chain []string, msg string) {
	w.out = append(w.out, incomplete(w.loc(chain), msg))
}

// fail records a read problem at chain and lets the caller go on with the
// next member, unless err means the whole file must stop (a limit or a
// cancelled context).
func (w *walker) fail(ctx context.Context, chain []string, what string, err error) error {
	if _, ok := errors.AsType[*limitError](err); ok {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	w.note(chain, fmt.Sprintf("%s: %v", what, err))
	return nil
}

// counted charges every byte read from r to the file's expansion budget.
type counted struct {
	r     io.Reader
	w     *walker
	chain []string
}

func (c *counted) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.w.expanded += int64(n)
	if max := c.w.s.lim.MaxExpandedBytes; c.w.expanded > max {
		return n, &limitError{c.chain, fmt.Sprintf("stopped after extracting %d bytes (limit %d); the rest was not scanned", c.w.expanded, max)}
	}
	return n, err
}

func (w *walker) count(r io.Reader, chain []string) io.Reader { return &counted{r, w, chain} }

// member charges one archive member to the file's member budget.
func (w *walker) member(chain []string) error {
	w.members++
	if w.members > w.s.lim.MaxMembers {
		return &limitError{chain, fmt.Sprintf("stopped after %d archive members (limit); the rest was not scanned", w.s.lim.MaxMembers)}
	}
	return nil
}

// stream scans r, found at chain, opening it if it is an archive or a
// compressed stream. ra, if not nil, gives random access to the same bytes
// (a file on disk) and size is their length, or -1 if unknown.
func (w *walker) stream(ctx context.Context, chain []string, r io.Reader, ra io.ReaderAt, size int64, depth int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	br := w.s.readers.Get().(*bufio.Reader)
	br.Reset(r)
	defer func() {
		br.Reset(nil)
		w.s.readers.Put(br)
	}()
	head, err := br.Peek(sniffLen)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return w.fail(ctx, chain, "reading", err)
	}
	k := sniff(head)
	if k != kindPlain && depth >= w.s.lim.MaxDepth {
		w.note(chain, fmt.Sprintf("%s nested more than %d layers deep was not opened", k, w.s.lim.MaxDepth))
		return nil
	}
	switch k {
	case kindGzip:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return w.fail(ctx, chain, "opening gzip stream", err)
		}
		defer zr.Close()
		return w.stream(ctx, chain, w.count(zr, chain), nil, -1, depth+1)
	case kindZstd:
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxMemory(256<<20))
		if err != nil {
			return w.fail(ctx, chain, "opening zstd stream", err)
		}
		defer zr.Close()
		return w.stream(ctx, chain, w.count(zr, chain), nil, -1, depth+1)
	case kindBzip2:
		return w.stream(ctx, chain, w.count(bzip2.NewReader(br), chain), nil, -1, depth+1)
	case kindTar:
		return w.tar(ctx, chain, br, depth)
	case kindZip:
		if ra == nil || size < 0 {
			buf, err := limits.ReadAll(br, w.s.lim.MaxBufferedBytes, "zip archive")
			if errors.Is(err, limits.ErrTooLarge) {
				w.note(chain, fmt.Sprintf("nested zip archive larger than %d bytes was not opened", w.s.lim.MaxBufferedBytes))
				return nil
			}
			if err != nil {
				return w.fail(ctx, chain, "reading zip archive", err)
			}
			ra, size = bytes.NewReader(buf), int64(len(buf))
		}
		return w.zip(ctx, chain, ra, size, depth)
	}
	return w.content(ctx, chain, br, size)
}

// child returns chain extended by a member name, cleaned of leading "/" and
// "./" so that locations read like paths inside the archive.
func child(chain []string, name string) []string {
	name = strings.TrimPrefix(path.Clean("/"+strings.ReplaceAll(name, "\\", "/")), "/")
	return append(slices.Clip(chain), name)
}

func (w *walker) tar(ctx context.Context, chain []string, r io.Reader, depth int) error {
	tr := tar.NewReader(r)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return w.fail(ctx, chain, "reading tar archive", err)
		}
		if !hdr.FileInfo().Mode().IsRegular() {
			continue // directories, links, devices: no content of their own
		}
		if err := w.member(chain); err != nil {
			return err
		}
		c := child(chain, hdr.Name)
		if err := w.stream(ctx, c, w.count(tr, c), nil, hdr.Size, depth+1); err != nil {
			return err
		}
	}
}

func (w *walker) zip(ctx context.Context, chain []string, ra io.ReaderAt, size int64, depth int) error {
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return w.fail(ctx, chain, "reading zip archive", err)
	}
	for _, f := range zr.File {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !f.Mode().IsRegular() {
			continue
		}
		if err := w.member(chain); err != nil {
			return err
		}
		c := child(chain, f.Name)
		rc, err := f.Open()
		if err != nil {
			if err := w.fail(ctx, c, "opening zip member", err); err != nil {
				return err
			}
			continue
		}
		err = w.stream(ctx, c, w.count(rc, c), nil, int64(min(f.UncompressedSize64, 1<<62)), depth+1)
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}
