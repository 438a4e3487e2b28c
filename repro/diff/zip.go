package diff

import (
	"archive/zip"
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"time"
)

func (c *comparer) compareZip(ctx context.Context, p string, a, b *source, depth int) error {
	ma, commentA, err := c.zipMembers(ctx, p, a)
	if err != nil {
		return fmt.Errorf("zip A: %w", err)
	}
	mb, commentB, err := c.zipMembers(ctx, p, b)
	if err != nil {
		return fmt.Errorf("zip B: %w", err)
	}
	if commentA != commentB {
		c.add(Difference{Path: p, Kind: KindMetadata, Field: "archive comment", A: commentA, B: commentB, Offset: -1})
	}
	return c.compareMembers(ctx, p, a, b, ma, mb, nil, depth)
}

// zipMembers lists the members of a zip archive. Content digests are left
// empty; the CRC-32 and size stand in for them as a fast first check.
func (c *comparer) zipMembers(ctx context.Context, p string, s *source) ([]*member, string, error) {
	ra, size, err := c.randomAccess(ctx, s)
	if err != nil {
		return nil, "", err
	}
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return nil, "", fmt.Errorf("%w: zip: %w", ErrFormat, err)
	}
	if len(zr.File) > c.cfg.maxMembers {
		return nil, "", &LimitError{What: "member count", Limit: int64(c.cfg.maxMembers), Path: p}
	}
	out := make([]*member, 0, len(zr.File))
	for i, f := range zr.File {
		mp := join(p, f.Name)
		m := &member{
			name:    f.Name,
			pos:     i,
			regular: !f.Mode().IsDir(),
			size:    int64(f.UncompressedSize64),
			// CRC-32 and size identify content well enough to skip equal
			// members; a collision only loses the explanation, since the
			// artifacts' digests still differ.
			sum: fmt.Sprintf("crc32:%08x/%d", f.CRC32, f.UncompressedSize64),
			open: func() (io.ReadCloser, error) {
				rc, err := f.Open()
				if err != nil {
					return nil, err
				}
				return struct {
					io.Reader
					io.Closer
				}{&limitedReader{r: rc, limit: c.cfg.maxDecompressed, what: "member size", path: mp}, rc}, nil
			},
			fields: []field{
				{"mtime", fmtTime(f.Modified), CauseTimestamp},
				{"mode", fmt.Sprintf("%v (%04o)", f.Mode(), f.Mode().Perm()), CauseFileMode},
				{"method", strconv.Itoa(int(f.Method)), ""},
				{"creator", fmt.Sprintf("%d.%d", f.CreatorVersion>>8, f.CreatorVersion&0xff), ""},
				{"comment", f.Comment, ""},
			},
		}
		m.fields = append(m.fields, zipExtra(f.Extra)...)
		out = append(out, m)
	}
	return out, zr.Comment, nil
}

// zipExtra splits the extra field into blocks, naming the timestamp blocks.
func zipExtra(extra []byte) []field {
	var out []field
	for len(extra) >= 4 {
		id, n := binary.LittleEndian.Uint16(extra), int(binary.LittleEndian.Uint16(extra[2:]))
		if 4+n > len(extra) {
			break
		}
		body := extra[4 : 4+n]
		extra = extra[4+n:]
		switch id {
		case 0x5455: // extended timestamp: flags, then mtime/atime/ctime
			if len(body) >= 5 {
				t := time.Unix(int64(binary.LittleEndian.Uint32(body[1:5])), 0)
				out = append(out, field{"extra:extended-timestamp", fmtTime(t), CauseTimestamp})
			}
		case 0x000a: // NTFS times
			out = append(out, field{"extra:ntfs-times", hex.EncodeToString(body), CauseTimestamp})
		case 0x7875: // Unix uid/gid
			out = append(out, field{"extra:unix-owner", hex.EncodeToString(body), CauseBuildUser})
		default:
			out = append(out, field{fmt.Sprintf("extra:0x%04x", id), hex.EncodeToString(body), ""})
		}
	}
	return out
}
