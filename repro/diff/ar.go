package diff

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// arMagic starts every Unix ar archive (and every .deb).
const arMagic = "!<arch>\n"

// arHeader is the metadata of one ar member.
type arHeader struct {
	Name  string
	MTime int64
	UID   int
	GID   int
	Mode  int64
	Size  int64
}

// arReader reads the members of a Unix ar archive (GNU and BSD variants)
// sequentially. It holds at most the GNU long-name table in memory, bounded
// by maxNames.
type arReader struct {
	r         io.Reader
	remaining int64 // unread bytes of the current member
	pad       bool  // a padding byte follows the current member
	longNames []byte
	maxNames  int64
}

func newArReader(r io.Reader) (*arReader, error) {
	magic := make([]byte, len(arMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != arMagic {
		return nil, fmt.Errorf("%w: ar: bad magic", ErrFormat)
	}
	return &arReader{r: r, maxNames: 1 << 20}, nil
}

// Next advances to the next member, skipping the symbol table, and returns
// its header; it returns io.EOF at the end of the archive.
func (a *arReader) Next() (*arHeader, error) {
	for {
		if err := a.skip(); err != nil {
			return nil, err
		}
		var raw [60]byte
		n, err := io.ReadFull(a.r, raw[:])
		if n == 0 && errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		if err != nil {
			return nil, fmt.Errorf("%w: ar: short header", ErrFormat)
		}
		if string(raw[58:60]) != "`\n" {
			return nil, fmt.Errorf("%w: ar: bad header terminator", ErrFormat)
		}
		h := &arHeader{Name: strings.TrimRight(string(raw[0:16]), " ")}
		fields := []struct {
			b    []byte
			base int
			dst  *int64
		}{{raw[16:28], 10, &h.MTime}, {raw[40:48], 8, &h.Mode}, {raw[48:58], 10, &h.Size}}
		for _, f := range fields {
			s := strings.TrimSpace(string(f.b))
			if s == "" {
				continue
			}
			v, err := strconv.ParseInt(s, f.base, 64)
			if err != nil || v < 0 {
				return nil, fmt.Errorf("%w: ar: bad numeric field %q", ErrFormat, s)
			}
			*f.dst = v
		}
		for _, f := range []struct {
			b   []byte
			dst *int
		}{{raw[28:34], &h.UID}, {raw[34:40], &h.GID}} {
			if s := strings.TrimSpace(string(f.b)); s != "" {
				v, err := strconv.Atoi(s)
				if err != nil || v < 0 {
					return nil, fmt.Errorf("%w: ar: bad id %q", ErrFormat, s)
				}
				*f.dst = v
			}
		}
		a.remaining, a.pad = h.Size, h.Size%2 == 1
		switch {
		case h.Name == "/" || h.Name == "/SYM64/" || h.Name == "__.SYMDEF" || h.Name == "__.SYMDEF SORTED":
			continue // symbol table
		case h.Name == "//":
			if h.Size > a.maxNames {
				return nil, fmt.Errorf("ar: long-name table of %d bytes: %w", h.Size, &LimitError{What: "ar name table", Limit: a.maxNames})
			}
			a.longNames = make([]byte, h.Size)
			if _, err := io.ReadFull(a, a.longNames); err != nil {
				return nil, fmt.Errorf("%w: ar: short name table", ErrFormat)
			}
			continue
		case strings.HasPrefix(h.Name, "#1/"):
			n, err := strconv.Atoi(h.Name[3:])
			if err != nil || n < 0 || int64(n) > h.Size || n > 4096 {
				return nil, fmt.Errorf("%w: ar: bad BSD name length %q", ErrFormat, h.Name)
			}
			name := make([]byte, n)
			if _, err := io.ReadFull(a, name); err != nil {
				return nil, fmt.Errorf("%w: ar: short BSD name", ErrFormat)
			}
			h.Name = string(bytes.TrimRight(name, "\x00"))
			h.Size -= int64(n)
		case len(h.Name) > 1 && h.Name[0] == '/' && h.Name[1] >= '0' && h.Name[1] <= '9':
			off, err := strconv.Atoi(h.Name[1:])
			if err != nil || off < 0 || off >= len(a.longNames) {
				return nil, fmt.Errorf("%w: ar: bad long-name offset %q", ErrFormat, h.Name)
			}
			name := a.longNames[off:]
			if i := bytes.IndexByte(name, '\n'); i >= 0 {
				name = name[:i]
			}
			h.Name = strings.TrimSuffix(string(name), "/")
		default:
			h.Name = strings.TrimSuffix(h.Name, "/")
		}
		return h, nil
	}
}

// Read reads the content of the current member.
func (a *arReader) Read(p []byte) (int, error) {
	if a.remaining <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > a.remaining {
		p = p[:a.remaining]
	}
	n, err := a.r.Read(p)
	a.remaining -= int64(n)
	if errors.Is(err, io.EOF) && a.remaining > 0 {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (a *arReader) skip() error {
	if a.remaining > 0 {
		if _, err := io.CopyN(io.Discard, a.r, a.remaining); err != nil {
			return fmt.Errorf("%w: ar: truncated member", ErrFormat)
		}
		a.remaining = 0
	}
	if a.pad {
		a.pad = false
		var b [1]byte
		if _, err := io.ReadFull(a.r, b[:]); err != nil {
			return io.EOF // a missing final pad byte is tolerated
		}
	}
	return nil
}

func walkAr(ctx context.Context, p string, s *source, visit func(*member, io.Reader) error) error {
	rc, err := s.reader()
	if err != nil {
		return err
	}
	defer rc.Close()
	ar, err := newArReader(rc)
	if err != nil {
		return err
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		h, err := ar.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		m := &member{name: h.Name, regular: true, size: h.Size, fields: []field{
			{"mode", fmt.Sprintf("%04o", h.Mode), CauseFileMode},
			{"mtime", fmtTime(time.Unix(h.MTime, 0)), CauseTimestamp},
			{"uid", strconv.Itoa(h.UID), CauseBuildUser},
			{"gid", strconv.Itoa(h.GID), CauseBuildUser},
		}}
		if err := visit(m, ar); err != nil {
			return err
		}
	}
}

func (c *comparer) compareAr(ctx context.Context, p string, a, b *source, depth int) error {
	ma, err := c.index(ctx, p, a, walkAr)
	if err != nil {
		return fmt.Errorf("ar A: %w", err)
	}
	mb, err := c.index(ctx, p, b, walkAr)
	if err != nil {
		return fmt.Errorf("ar B: %w", err)
	}
	return c.compareMembers(ctx, p, a, b, ma, mb, walkAr, depth)
}
