package diff

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"
)

func (c *comparer) compareTar(ctx context.Context, p string, a, b *source, depth int) error {
	ma, err := c.index(ctx, p, a, walkTar)
	if err != nil {
		return fmt.Errorf("tar A: %w", err)
	}
	mb, err := c.index(ctx, p, b, walkTar)
	if err != nil {
		return fmt.Errorf("tar B: %w", err)
	}
	return c.compareMembers(ctx, p, a, b, ma, mb, walkTar, depth)
}

// walkTar streams the members of a tar archive. A file source is passed to
// archive/tar directly so that skipped member data is seeked over.
func walkTar(ctx context.Context, p string, s *source, visit func(*member, io.Reader) error) error {
	rc, err := s.reader()
	if err != nil {
		return err
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: tar: %w", ErrFormat, err)
		}
		if err := visit(tarMember(h), tr); err != nil {
			return err
		}
	}
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func tarMember(h *tar.Header) *member {
	m := &member{name: h.Name, regular: h.Typeflag == tar.TypeReg || h.Typeflag == tar.TypeRegA, size: h.Size}
	m.fields = []field{
		{"type", string(rune(h.Typeflag)), ""},
		{"mode", fmt.Sprintf("%04o", h.Mode), CauseFileMode},
		{"mtime", fmtTime(h.ModTime), CauseTimestamp},
		{"atime", fmtTime(h.AccessTime), CauseTimestamp},
		{"ctime", fmtTime(h.ChangeTime), CauseTimestamp},
		{"uid", strconv.Itoa(h.Uid), CauseBuildUser},
		{"gid", strconv.Itoa(h.Gid), CauseBuildUser},
		{"uname", h.Uname, CauseBuildUser},
		{"gname", h.Gname, CauseBuildUser},
		{"linkname", h.Linkname, ""},
	}
	if h.Typeflag == tar.TypeChar || h.Typeflag == tar.TypeBlock {
		m.fields = append(m.fields, field{"device", fmt.Sprintf("%d,%d", h.Devmajor, h.Devminor), ""})
	}
	keys := make([]string, 0, len(h.PAXRecords))
	for k := range h.PAXRecords {
		switch k {
		case "path", "linkpath", "size", "uid", "gid", "uname", "gname", "mtime", "atime", "ctime":
			// Already compared through the header fields.
		default:
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		m.fields = append(m.fields, field{"pax:" + k, h.PAXRecords[k], paxCause(k)})
	}
	return m
}

func paxCause(k string) Cause {
	switch k {
	case "LIBARCHIVE.creationtime", "SCHILY.fflags":
		return CauseTimestamp
	}
	return ""
}
