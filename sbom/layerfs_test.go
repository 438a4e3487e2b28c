package sbom

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

type entry struct {
	name, link, body string
	typ              byte
	mode             int64
}

func tarOf(t testing.TB, es ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range es {
		h := &tar.Header{Name: e.name, Linkname: e.link, Typeflag: e.typ, Mode: e.mode, Size: int64(len(e.body))}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if e.typ != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func layerOf(t testing.TB, b []byte) v1.Layer {
	t.Helper()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }, tarball.WithMediaType(types.OCIUncompressedLayer))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func keepAll(string, fs.FileInfo) bool { return true }

func readString(t *testing.T, f fs.FS, name string) (string, error) {
	t.Helper()
	b, err := fs.ReadFile(f, name)
	return string(b), err
}

// TestImageFSSymlinksStayInRoot: symlinks, relative or absolute, and
// ".." resolve inside the image root, never on the host; loops end.
func TestImageFSSymlinksStayInRoot(t *testing.T) {
	l := layerOf(t, tarOf(t,
		entry{name: "usr/lib/os-release", body: "ID=debian\n", typ: tar.TypeReg},
		entry{name: "etc/os-release", link: "../usr/lib/os-release", typ: tar.TypeSymlink},
		entry{name: "up", link: "../../../../../../../usr", typ: tar.TypeSymlink},
		entry{name: "abs", link: "/usr/lib", typ: tar.TypeSymlink},
		entry{name: "loop1", link: "loop2", typ: tar.TypeSymlink},
		entry{name: "loop2", link: "loop1", typ: tar.TypeSymlink},
		entry{name: "../../escape.txt", body: "x", typ: tar.TypeReg},
	))
	f, err := readLayers(t.Context(), []v1.Layer{l}, keepAll, 1<<20, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"etc/os-release", "up/lib/os-release", "abs/os-release"} {
		if got, err := readString(t, f, name); err != nil || got != "ID=debian\n" {
			t.Errorf("%s: %q, %v; want the image's os-release", name, got, err)
		}
	}
	if _, err := f.Open("loop1"); err == nil || !errors.Is(err, errTooManyLinks) {
		t.Errorf("loop1: %v, want %v", err, errTooManyLinks)
	}
	// "../../escape.txt" is cleaned to the root's escape.txt.
	if got, err := readString(t, f, "escape.txt"); err != nil || got != "x" {
		t.Errorf("escape.txt: %q, %v", got, err)
	}
}

// TestImageFSLayers: whiteouts and opaque directories hide the lower
// layers only; hard links share their target's content; a file written
// through a symlinked directory lands in its target; the history of a
// kept file records each layer's version and removals.
func TestImageFSLayers(t *testing.T) {
	l0 := layerOf(t, tarOf(t,
		entry{name: "usr/lib/", typ: tar.TypeDir, mode: 0o755},
		entry{name: "lib", link: "usr/lib", typ: tar.TypeSymlink},
		entry{name: "a/old.txt", body: "old", typ: tar.TypeReg},
		entry{name: "a/keep.txt", body: "keep", typ: tar.TypeReg},
		entry{name: "b/gone.txt", body: "gone", typ: tar.TypeReg},
		entry{name: "status", body: "v0", typ: tar.TypeReg},
	))
	l1 := layerOf(t, tarOf(t,
		entry{name: "a/new.txt", body: "new", typ: tar.TypeReg},
		entry{name: "a/.wh..wh..opq", typ: tar.TypeReg},
		entry{name: "b/.wh.gone.txt", typ: tar.TypeReg},
		entry{name: "lib/libx.so", body: "elf", typ: tar.TypeReg},
		entry{name: "status", body: "v1", typ: tar.TypeReg},
		entry{name: "status.hard", link: "status", typ: tar.TypeLink},
	))
	l2 := layerOf(t, tarOf(t,
		entry{name: ".wh.status", typ: tar.TypeReg},
	))
	f, err := readLayers(t.Context(), []v1.Layer{l0, l1, l2}, keepAll, 1<<20, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"a/new.txt": "new", "usr/lib/libx.so": "elf", "lib/libx.so": "elf", "status.hard": "v1"} {
		if got, err := readString(t, f, name); err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", name, got, err, want)
		}
	}
	for _, name := range []string{"a/old.txt", "a/keep.txt", "b/gone.txt", "status"} {
		if _, err := f.Stat(name); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: %v, want it removed", name, err)
		}
	}
	h := f.history["status"]
	if len(h) != 3 || h[0].layer != 0 || h[1].layer != 1 || !h[2].removed || h[2].layer != 2 {
		t.Errorf("history of status: %+v, want versions of layers 0 and 1, removed by 2", h)
	}
	if h := f.history["status.hard"]; len(h) != 1 || h[0].layer != 1 {
		t.Errorf("history of status.hard: %+v, want the version of layer 1", h)
	}
}

// TestImageFSHardLinkUnderNeededName: a hard link whose own name is
// needed gets its target's content even when the target's name is not
// (the target came first in the tar and was skipped), also through a
// chain of links, and even when a later entry reuses the target's name.
func TestImageFSHardLinkUnderNeededName(t *testing.T) {
	l := layerOf(t, tarOf(t,
		entry{name: "opt/pkg/status.orig", body: "Package: zlib1g\n", typ: tar.TypeReg},
		entry{name: "opt/pkg/status.copy", link: "opt/pkg/status.orig", typ: tar.TypeLink},
		entry{name: "var/lib/dpkg/status", link: "opt/pkg/status.copy", typ: tar.TypeLink},
		entry{name: "opt/pkg/status.orig", body: "rewritten", typ: tar.TypeReg},
		entry{name: "etc/unrelated", link: "opt/pkg/status.orig", typ: tar.TypeLink},
	))
	need := func(p string, _ fs.FileInfo) bool { return p == "var/lib/dpkg/status" }
	f, err := readLayers(t.Context(), []v1.Layer{l}, need, 1<<20, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if got, err := readString(t, f, "var/lib/dpkg/status"); err != nil || got != "Package: zlib1g\n" {
		t.Errorf("var/lib/dpkg/status: %q, %v; want the first status.orig's content", got, err)
	}
	for _, name := range []string{"opt/pkg/status.orig", "etc/unrelated"} {
		if _, err := fs.ReadFile(f, name); err == nil {
			t.Errorf("%s: content kept though nothing needs it", name)
		}
	}
}

// TestImageFSMaxFileSize: a file above the bound is not kept.
func TestImageFSMaxFileSize(t *testing.T) {
	l := layerOf(t, tarOf(t, entry{name: "big", body: "0123456789", typ: tar.TypeReg}, entry{name: "small", body: "0", typ: tar.TypeReg}))
	f, err := readLayers(t.Context(), []v1.Layer{l}, keepAll, 5, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Open("big"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("big: %v, want it not kept", err)
	}
	if got, err := readString(t, f, "small"); err != nil || got != "0" {
		t.Errorf("small: %q, %v", got, err)
	}
}

// FuzzReadLayers reads arbitrary tar bytes as two layers and walks the
// result: no panic, no endless symlink resolution.
func FuzzReadLayers(f *testing.F) {
	f.Add(tarOf(f,
		entry{name: "etc/os-release", link: "../usr/lib/os-release", typ: tar.TypeSymlink},
		entry{name: "usr/lib/os-release", body: "ID=debian\n", typ: tar.TypeReg},
		entry{name: "x", link: "x/y", typ: tar.TypeSymlink},
		entry{name: "x/z", body: "z", typ: tar.TypeReg},
		entry{name: "h", link: "usr/lib/os-release", typ: tar.TypeLink},
		entry{name: "usr/.wh..wh..opq", typ: tar.TypeReg},
		entry{name: ".wh.etc", typ: tar.TypeReg},
	))
	f.Fuzz(func(t *testing.T, data []byte) {
		l := layerOf(t, data)
		ifs, err := readLayers(t.Context(), []v1.Layer{l, l}, keepAll, 1<<16, t.TempDir())
		if err != nil {
			return
		}
		_ = fs.WalkDir(ifs, ".", func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				_, _ = fs.ReadFile(ifs, p)
			}
			return nil
		})
	})
}
