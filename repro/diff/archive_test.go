package diff_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ulikunitz/xz"

	"github.com/hallmark-dev/hallmark/repro/diff"
)

type entry struct {
	name  string
	body  string
	mode  int64
	mtime time.Time
	uid   int
}

var epoch = time.Unix(1700000000, 0)

func tarBytes(t testing.TB, es []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range es {
		h := &tar.Header{Name: e.name, Mode: e.mode, Size: int64(len(e.body)), ModTime: e.mtime, Uid: e.uid, Typeflag: tar.TypeReg, Format: tar.FormatUSTAR}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if h.ModTime.IsZero() {
			h.ModTime = epoch
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipBytes(t testing.TB, data []byte, mtime time.Time) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.ModTime = mtime
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipLevel(t testing.TB, data []byte, level int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, level)
	if err != nil {
		t.Fatal(err)
	}
	zw.ModTime = epoch
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zipBytes(t testing.TB, es []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range es {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: e.mtime}
		if h.Modified.IsZero() {
			h.Modified = epoch.UTC()
		}
		mode := e.mode
		if mode == 0 {
			mode = 0o644
		}
		h.SetMode(fsMode(mode))
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func xzBytes(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := xz.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// arBytes writes a GNU ar archive (as dpkg-deb does for .deb files).
func arBytes(t testing.TB, es []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	buf.WriteString("!<arch>\n")
	for _, e := range es {
		mt := e.mtime
		if mt.IsZero() {
			mt = epoch
		}
		mode := e.mode
		if mode == 0 {
			mode = 0o644
		}
		fmt.Fprintf(&buf, "%-16s%-12d%-6d%-6d%-8o%-10d`\n", e.name+"/", mt.Unix(), e.uid, 0, 0o100000|mode, len(e.body))
		buf.WriteString(e.body)
		if len(e.body)%2 == 1 {
			buf.WriteByte('\n')
		}
	}
	return buf.Bytes()
}

type kindPath struct {
	Kind  diff.Kind
	Path  string
	Field string
}

func summary(r *diff.Report) []kindPath {
	var out []kindPath
	for _, d := range r.Differences {
		out = append(out, kindPath{d.Kind, d.Path, d.Field})
	}
	return out
}

func TestArchives(t *testing.T) {
	base := []entry{{name: "bin/tool", body: "tool v1\n"}, {name: "README", body: "readme\n"}}
	later := epoch.Add(90 * time.Minute)
	tests := []struct {
		name       string
		a, b       []byte
		want       []kindPath
		wantCauses []diff.Cause
	}{
		{
			name:       "tar member mtime and uid",
			a:          tarBytes(t, base),
			b:          tarBytes(t, []entry{{name: "bin/tool", body: "tool v1\n", mtime: later}, {name: "README", body: "readme\n", uid: 1000}}),
			want:       []kindPath{{diff.KindMetadata, "bin/tool", "mtime"}, {diff.KindMetadata, "README", "uid"}},
			wantCauses: []diff.Cause{diff.CauseBuildUser, diff.CauseTimestamp},
		},
		{
			name: "tar member only in one side and content",
			a:    tarBytes(t, base),
			b:    tarBytes(t, []entry{{name: "bin/tool", body: "tool built in /home/alice/src\n"}, {name: "NEWS", body: "x\n"}}),
			want: []kindPath{{diff.KindOnlyInA, "README", ""}, {diff.KindOnlyInB, "NEWS", ""}, {diff.KindText, "bin/tool", ""}},
		},
		{
			name:       "gzip header mtime only",
			a:          gzipBytes(t, tarBytes(t, base), epoch),
			b:          gzipBytes(t, tarBytes(t, base), later),
			want:       []kindPath{{diff.KindMetadata, "", "gzip mtime"}},
			wantCauses: []diff.Cause{diff.CauseTimestamp},
		},
		{
			name:       "same content, another compression level",
			a:          gzipBytes(t, tarBytes(t, base), epoch),
			b:          gzipLevel(t, tarBytes(t, base), gzip.NoCompression),
			want:       []kindPath{{diff.KindMetadata, "", "gzip stream"}},
			wantCauses: []diff.Cause{diff.CauseToolchain},
		},
		{
			name:       "tar.gz nested member mode",
			a:          gzipBytes(t, tarBytes(t, base), epoch),
			b:          gzipBytes(t, tarBytes(t, []entry{base[0], {name: "README", body: "readme\n", mode: 0o664}}), epoch),
			want:       []kindPath{{diff.KindMetadata, "a.tar!README", "mode"}},
			wantCauses: []diff.Cause{diff.CauseFileMode},
		},
		{
			name: "zip member mtime",
			a:    zipBytes(t, base),
			b:    zipBytes(t, []entry{{name: "bin/tool", body: "tool v1\n", mtime: later.UTC()}, base[1]}),
			// archive/zip also writes the time in an extended-timestamp extra field.
			want:       []kindPath{{diff.KindMetadata, "bin/tool", "mtime"}, {diff.KindMetadata, "bin/tool", "extra:extended-timestamp"}},
			wantCauses: []diff.Cause{diff.CauseTimestamp},
		},
		{
			name: "deb: ar of a gzipped tar",
			a: arBytes(t, []entry{{name: "debian-binary", body: "2.0\n"},
				{name: "data.tar.gz", body: string(gzipBytes(t, tarBytes(t, base), epoch))}}),
			b: arBytes(t, []entry{{name: "debian-binary", body: "2.0\n"},
				{name: "data.tar.gz", body: string(gzipBytes(t, tarBytes(t, []entry{base[0], {name: "README", body: "readme\n", mtime: later}}), epoch))}}),
			want:       []kindPath{{diff.KindMetadata, "data.tar.gz!data.tar!README", "mtime"}},
			wantCauses: []diff.Cause{diff.CauseTimestamp},
		},
		{
			name: "deb: ar of an xz-compressed tar",
			a: arBytes(t, []entry{{name: "debian-binary", body: "2.0\n"},
				{name: "data.tar.xz", body: string(xzBytes(t, tarBytes(t, base)))}}),
			b: arBytes(t, []entry{{name: "debian-binary", body: "2.0\n"},
				{name: "data.tar.xz", body: string(xzBytes(t, tarBytes(t, []entry{base[0], {name: "README", body: "readme\n", uid: 1000}})))}}),
			want:       []kindPath{{diff.KindMetadata, "data.tar.xz!data.tar!README", "uid"}},
			wantCauses: []diff.Cause{diff.CauseBuildUser},
		},
		{
			name:       "ar member order",
			a:          arBytes(t, base),
			b:          arBytes(t, []entry{base[1], base[0]}),
			want:       []kindPath{{diff.KindOrder, "", "member order"}},
			wantCauses: []diff.Cause{diff.CauseFileOrder},
		},
		{
			name:       "JSON with keys in another order",
			a:          []byte(`{"a":1,"b":[1,2]}`),
			b:          []byte(`{"b":[1,2],"a":1}`),
			want:       []kindPath{{diff.KindText, "", "json"}},
			wantCauses: []diff.Cause{diff.CauseOrdering},
		},
		{
			name:       "text with locale and time zone",
			a:          []byte("built with LANG=en_US.UTF-8\nzone UTC\n"),
			b:          []byte("built with LANG=de_DE.UTF-8\nzone CET\n"),
			want:       []kindPath{{diff.KindText, "", ""}},
			wantCauses: []diff.Cause{diff.CauseLocale},
		},
		{
			name:       "text with toolchain version",
			a:          []byte("compiled by go1.26.3 linux/amd64\n"),
			b:          []byte("compiled by go1.26.8 linux/amd64\n"),
			want:       []kindPath{{diff.KindText, "", ""}},
			wantCauses: []diff.Cause{diff.CauseToolchain},
		},
		{
			name: "different formats",
			a:    tarBytes(t, base),
			b:    zipBytes(t, base),
			want: []kindPath{{diff.KindFormat, "", ""}, {diff.KindBytes, "", ""}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := diff.Bytes(t.Context(), "a.tar.gz", tt.a, "b.tar.gz", tt.b)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Identical {
				t.Fatal("inputs differ but report says identical")
			}
			if d := cmp.Diff(tt.want, summary(rep)); d != "" {
				t.Errorf("differences (-want +got):\n%s", d)
			}
			if tt.wantCauses != nil {
				if d := cmp.Diff(tt.wantCauses, rep.Causes()); d != "" {
					t.Errorf("causes (-want +got):\n%s", d)
				}
			}
		})
	}
}

func TestIdentical(t *testing.T) {
	data := tarBytes(t, []entry{{name: "x", body: "y"}})
	rep, err := diff.Bytes(t.Context(), "a", data, "b", slices.Clone(data))
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Identical || len(rep.Differences) != 0 || rep.DigestA != rep.DigestB {
		t.Fatalf("want identical, got %+v", rep)
	}
}

// TestDecompressionBomb checks that a member inflating past the limit is
// reported in a note instead of being read to the end.
func TestDecompressionBomb(t *testing.T) {
	zeros := make([]byte, 8<<20)
	a := gzipBytes(t, zeros, epoch)
	zeros[len(zeros)-1] = 1
	b := gzipBytes(t, zeros, epoch)
	rep, err := diff.Bytes(t.Context(), "a.gz", a, "b.gz", b, diff.WithMaxDecompressed(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(rep.Notes, func(n string) bool { return strings.Contains(n, "decompressed size exceeds 1048576") }) {
		t.Errorf("no limit note in %q", rep.Notes)
	}
	if len(rep.Differences) == 0 {
		t.Error("the differing compressed bytes were not reported")
	}
}

func TestMaxDifferences(t *testing.T) {
	var ea, eb []entry
	for i := range 20 {
		ea = append(ea, entry{name: fmt.Sprint(i), body: "x"})
		eb = append(eb, entry{name: fmt.Sprint(i), body: "x", mtime: epoch.Add(time.Hour)})
	}
	rep, err := diff.Bytes(t.Context(), "a", tarBytes(t, ea), "b", tarBytes(t, eb), diff.WithMaxDifferences(5))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Differences) != 5 || !rep.Truncated {
		t.Fatalf("got %d differences, truncated=%v; want 5, true", len(rep.Differences), rep.Truncated)
	}
}

func TestOptionsRejectNonsense(t *testing.T) {
	for _, o := range []diff.Option{diff.WithMaxDepth(0), diff.WithMaxMembers(-1), diff.WithMaxDecompressed(0), diff.WithNow(nil), diff.WithLogger(nil)} {
		if _, err := diff.Bytes(t.Context(), "a", nil, "b", nil, o); err == nil {
			t.Error("option accepted a nonsensical value")
		}
	}
}

func TestContextCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := diff.Bytes(ctx, "a", []byte("x"), "b", []byte("y"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestRenderers(t *testing.T) {
	rep, err := diff.Bytes(t.Context(), "a.tar", tarBytes(t, []entry{{name: "x", body: "1"}}), "b.tar", tarBytes(t, []entry{{name: "x", body: "1", mode: 0o600}}))
	if err != nil {
		t.Fatal(err)
	}
	var text, js bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"--- a.tar", "1 difference(s); likely causes: file-mode", "* x [metadata] mode  cause: file-mode", "A: 0644", "B: 0600"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back diff.Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(*rep, back); d != "" {
		t.Errorf("JSON round trip (-want +got):\n%s", d)
	}
}

func fsMode(m int64) fs.FileMode { return fs.FileMode(m) }

// TestSpoolsLargeMembers forces differing members out of memory: they must
// be explained from temporary files, and the files removed afterwards.
func TestSpoolsLargeMembers(t *testing.T) {
	big := strings.Repeat("payload line\n", 5000)
	a := gzipBytes(t, tarBytes(t, []entry{{name: "big.txt", body: big + "built 2026-11-25T10:00:00Z\n"}, {name: "same", body: "x"}}), epoch)
	b := gzipBytes(t, tarBytes(t, []entry{{name: "big.txt", body: big + "built 2026-11-25T10:05:00Z\n"}, {name: "same", body: "x"}}), epoch)
	tmp := t.TempDir()
	rep, err := diff.Bytes(t.Context(), "a.tgz", a, "b.tgz", b, diff.WithMaxMemory(1024), diff.WithTempDir(tmp))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]kindPath{{diff.KindText, "a.tar!big.txt", ""}}, summary(rep)); d != "" {
		t.Errorf("differences (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]diff.Cause{diff.CauseTimestamp}, rep.Causes()); d != "" {
		t.Errorf("causes (-want +got):\n%s", d)
	}
	left, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}
