package diff

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestArReader(t *testing.T) {
	// A GNU archive with a symbol table, a long-name table, a long name, an
	// odd-sized member (padded) and a BSD-style name.
	archive := "!<arch>\n" +
		"/               0           0     0     0       4         `\n\x00\x00\x00\x00" +
		"//              0           0     0     0       30        `\nvery-long-member-name.txt/\n\n\n\n" +
		"/0              1700000000  1000  1000  100644  3         `\nabc\n" +
		"short.o/        0           0     0     100755  2         `\nxy" +
		"#1/8            0           0     0     100644  10        `\nbsd-nameZZ"
	r, err := newArReader(bytes.NewReader([]byte(archive)))
	if err != nil {
		t.Fatal(err)
	}
	type got struct {
		Name string
		Mode int64
		UID  int
		Body string
	}
	var out []got
	for {
		h, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, got{h.Name, h.Mode, h.UID, string(body)})
	}
	want := []got{
		{"very-long-member-name.txt", 0o100644, 1000, "abc"},
		{"short.o", 0o100755, 0, "xy"},
		{"bsd-name", 0o100644, 0, "ZZ"},
	}
	if d := cmp.Diff(want, out); d != "" {
		t.Errorf("members (-want +got):\n%s", d)
	}
}

func TestArReaderRejects(t *testing.T) {
	for name, archive := range map[string]string{
		"bad magic":      "!<arcx>\n",
		"bad terminator": "!<arch>\nx/              0           0     0     644     1         XX",
		"bad size":       "!<arch>\nx/              0           0     0     644     -1        `\n",
		"bad long name":  "!<arch>\n/99             0           0     0     644     1         `\nx\n",
	} {
		t.Run(name, func(t *testing.T) {
			r, err := newArReader(bytes.NewReader([]byte(archive)))
			if err == nil {
				_, err = r.Next()
			}
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("err = %v, want ErrFormat", err)
			}
		})
	}
}

func FuzzArReader(f *testing.F) {
	f.Add([]byte("!<arch>\nshort.o/        0           0     0     100755  2         `\nxy"))
	f.Add([]byte("!<arch>\n#1/8            0           0     0     100644  10        `\nbsd-nameZZ"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := newArReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		for range 1000 {
			h, err := r.Next()
			if err != nil {
				return
			}
			if h.Size < 0 {
				t.Fatalf("negative size %d", h.Size)
			}
			n, err := io.Copy(io.Discard, r)
			if err == nil && n != h.Size {
				t.Fatalf("read %d bytes of a %d-byte member", n, h.Size)
			}
		}
	})
}
