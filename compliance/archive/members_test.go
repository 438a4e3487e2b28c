package archive

import (
	"archive/tar"
	"bytes"
	"path"
	"strings"
	"testing"
)

// TestReadMembersRefusesUnsafeArchives: names escaping the directory, links,
// and duplicate members are refused.
func TestReadMembersRefusesUnsafeArchives(t *testing.T) {
	for name, hdrs := range map[string][]tar.Header{
		"parent":    {{Name: "../x", Typeflag: tar.TypeReg}},
		"absolute":  {{Name: "/etc/x", Typeflag: tar.TypeReg}},
		"unclean":   {{Name: "a//b", Typeflag: tar.TypeReg}},
		"symlink":   {{Name: "l", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}},
		"duplicate": {{Name: "a", Typeflag: tar.TypeReg}, {Name: "a", Typeflag: tar.TypeReg}},
	} {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for _, h := range hdrs {
			h := h
			if err := tw.WriteHeader(&h); err != nil {
				t.Fatal(err)
			}
		}
		tw.Close()
		if _, err := ReadMembers(&buf); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// FuzzReadMembers: no archive makes ReadMembers panic or return a member it should
// have refused.
func FuzzReadMembers(f *testing.F) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "manifest.json", Typeflag: tar.TypeReg, Size: 2})
	tw.Write([]byte("{}"))
	tw.Close()
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ReadMembers(bytes.NewReader(b))
		if err != nil {
			return
		}
		for n, v := range m {
			if path.Clean(n) != n || path.IsAbs(n) || strings.HasPrefix(n, "../") || int64(len(v)) > MaxMemberBytes {
				t.Errorf("accepted member %q (%d bytes)", n, len(v))
			}
		}
	})
}
