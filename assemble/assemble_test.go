package assemble_test

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/hallmark-dev/hallmark/assemble"
)

// write makes dir/name with content and mode under the given umask and
// modification time.
func write(t *testing.T, dir, name, content string, mode os.FileMode, umask int, mtime time.Time) string {
	t.Helper()
	old := syscall.Umask(umask)
	defer syscall.Umask(old)
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	return p
}

func digestOf(t *testing.T, img v1.Image) v1.Hash {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// The same inputs give the same manifest digest whatever the files'
// names on disk, modification times, umask and order; a changed content
// or mode bit gives another.
func TestImageIsReproducible(t *testing.T) {
	epoch := time.Unix(1700000000, 0)
	spec := func(app, conf string) assemble.Spec {
		return assemble.Spec{
			Files:      []assemble.File{{Src: app, Dst: "/usr/local/bin/app"}, {Src: conf, Dst: "/etc/app.conf"}},
			Entrypoint: []string{"/usr/local/bin/app"}, Env: []string{"A=1"},
			Labels: map[string]string{"org.opencontainers.image.source": "https://example.test/app"}, Epoch: epoch,
		}
	}
	d1, d2 := t.TempDir(), t.TempDir()
	a1 := write(t, d1, "app", "#!/bin/sh\necho hi\n", 0o755, 0o022, time.Unix(1, 0))
	c1 := write(t, d1, "conf", "x=1\n", 0o644, 0o022, time.Unix(2, 0))
	a2 := write(t, d2, "other-name", "#!/bin/sh\necho hi\n", 0o777, 0o077, time.Now())
	c2 := write(t, d2, "c", "x=1\n", 0o666, 0o077, time.Now().Add(time.Hour))
	img1, err := assemble.Image(nil, spec(a1, c1))
	if err != nil {
		t.Fatal(err)
	}
	s2 := spec(a2, c2)
	s2.Files[0], s2.Files[1] = s2.Files[1], s2.Files[0]
	img2, err := assemble.Image(nil, s2)
	if err != nil {
		t.Fatal(err)
	}
	if g1, g2 := digestOf(t, img1), digestOf(t, img2); g1 != g2 {
		t.Fatalf("same inputs, digests %s and %s", g1, g2)
	}
	cf, err := img1.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if !cf.Created.Time.Equal(epoch) || cf.History[len(cf.History)-1].Created.Time.Unix() != epoch.Unix() || cf.OS != "linux" || cf.Architecture != "amd64" {
		t.Errorf("config created %v, history %+v, platform %s/%s", cf.Created, cf.History, cf.OS, cf.Architecture)
	}
	layers, err := img1.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers %d, %v", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	var got []string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" || !h.ModTime.Equal(epoch) {
			t.Errorf("%s: owner %d:%d (%q:%q), mtime %v", h.Name, h.Uid, h.Gid, h.Uname, h.Gname, h.ModTime)
		}
		got = append(got, h.Name+" "+os.FileMode(h.Mode).String())
	}
	want := []string{"etc/ -rwxr-xr-x", "etc/app.conf -rw-r--r--", "usr/ -rwxr-xr-x", "usr/local/ -rwxr-xr-x",
		"usr/local/bin/ -rwxr-xr-x", "usr/local/bin/app -rwxr-xr-x"}
	if len(got) != len(want) {
		t.Fatalf("entries %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d: %q, want %q", i, got[i], want[i])
		}
	}

	// A lost execute bit is a different image.
	a3 := write(t, d2, "noexec", "#!/bin/sh\necho hi\n", 0o644, 0o022, time.Unix(1, 0))
	img3, err := assemble.Image(nil, spec(a3, c1))
	if err != nil {
		t.Fatal(err)
	}
	if digestOf(t, img3) == digestOf(t, img1) {
		t.Error("a file that lost its execute bit made the same image")
	}
}

func TestImageRejectsBadSpecs(t *testing.T) {
	dir := t.TempDir()
	f := write(t, dir, "f", "x", 0o644, 0o022, time.Unix(1, 0))
	for name, files := range map[string][]assemble.File{
		"relative":     {{Src: f, Dst: "app"}},
		"unclean":      {{Src: f, Dst: "/a/../app"}},
		"directory":    {{Src: dir, Dst: "/app"}},
		"duplicate":    {{Src: f, Dst: "/app"}, {Src: f, Dst: "/app"}},
		"file and dir": {{Src: f, Dst: "/a"}, {Src: f, Dst: "/a/b"}},
	} {
		if _, err := assemble.Image(nil, assemble.Spec{Files: files}); !errors.Is(err, assemble.ErrSpec) {
			t.Errorf("%s: err %v, want ErrSpec", name, err)
		}
	}
	if _, err := assemble.Image(nil, assemble.Spec{Env: []string{"NOEQUALS"}}); !errors.Is(err, assemble.ErrSpec) {
		t.Errorf("env without =: err %v", err)
	}
}
