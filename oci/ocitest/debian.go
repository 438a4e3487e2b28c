package ocitest

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// DebCacheEnv names the directory where DebianImage keeps downloaded .deb
// files; the default is ~/.cache/hallmark/debs.
const DebCacheEnv = "HALLMARK_DEB_CACHE"

// DebianLayer is one layer of a Debian image: the binary packages it
// installs and the history entry that made it.
type DebianLayer struct {
	Packages  []string
	CreatedBy string
}

// DebianImage builds an OCI image (linux/amd64) from real Debian binary
// packages of this machine's release, fetched with `apt-get download` (so
// from the machine's configured mirror, at the versions its package lists
// name). Each layer unpacks its packages' files (dpkg-deb -x) and writes
// what dpkg would: the status file with every package installed so far
// (the control stanza plus "Status: install ok installed"), and each
// package's .list and .md5sums under var/lib/dpkg/info. Maintainer scripts
// are not run. os-release comes from base-files, so the first layer should
// install it. Without apt-get or the packages the test is skipped (it fails
// when CI=true).
func DebianImage(t testing.TB, cfg v1.Config, layers ...DebianLayer) v1.Image {
	t.Helper()
	var all []string
	for _, l := range layers {
		all = append(all, l.Packages...)
	}
	debs := DownloadDebs(t, all...)
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	var status []byte
	for _, l := range layers {
		root := t.TempDir()
		for _, p := range l.Packages {
			status = append(status, installDeb(t, root, p, debs[p])...)
		}
		writeFile(t, filepath.Join(root, "var/lib/dpkg/status"), status)
		b := tarDir(t, root)
		layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }, tarball.WithMediaType(types.OCILayer))
		if err != nil {
			t.Fatal(err)
		}
		if img, err = mutate.Append(img, mutate.Addendum{Layer: layer, History: v1.History{CreatedBy: l.CreatedBy, Created: v1.Time{Time: time.Unix(0, 0).UTC()}}}); err != nil {
			t.Fatal(err)
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.Config = cfg
	cf.OS, cf.Architecture = "linux", "amd64"
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	return img
}

// DownloadDebs returns the .deb file of each named package (amd64, the
// candidate version of this machine's package lists), downloading the
// missing ones with `apt-get download` into the cache directory.
func DownloadDebs(t testing.TB, pkgs ...string) map[string]string {
	t.Helper()
	dir := os.Getenv(DebCacheEnv)
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(home, ".cache", "hallmark", "debs")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	found := func(p string) string {
		m, _ := filepath.Glob(filepath.Join(dir, p+"_*_*.deb"))
		if len(m) == 0 {
			return ""
		}
		slices.Sort(m)
		return m[len(m)-1]
	}
	var missing []string
	for _, p := range pkgs {
		if found(p) == "" {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		apt, err := exec.LookPath("apt-get")
		if err != nil {
			skipOrFail(t, "apt-get not found: the Debian image tests need real .deb files")
		}
		cmd := exec.CommandContext(t.Context(), apt, append([]string{"download", "-q"}, missing...)...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			skipOrFail(t, "apt-get download "+strings.Join(missing, " ")+": "+err.Error()+"\n"+string(out)+"(run apt-get update first)")
		}
	}
	debs := map[string]string{}
	for _, p := range pkgs {
		f := found(p)
		if f == "" {
			t.Fatalf("apt-get download %s left no %s_*.deb in %s", p, p, dir)
		}
		debs[p] = f
	}
	return debs
}

func skipOrFail(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// installDeb unpacks deb into root and writes its dpkg info files; it
// returns the package's status stanza.
func installDeb(t testing.TB, root, pkg, deb string) []byte {
	t.Helper()
	run := func(args ...string) []byte {
		out, err := exec.CommandContext(t.Context(), "dpkg-deb", args...).Output()
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				t.Fatalf("dpkg-deb %s: %v\n%s", strings.Join(args, " "), err, ee.Stderr)
			}
			skipOrFail(t, "dpkg-deb: "+err.Error())
		}
		return out
	}
	run("-x", deb, root)
	control := run("-f", deb)
	ctrl := t.TempDir()
	run("-e", deb, ctrl)

	infoName := pkg
	if field(control, "Multi-Arch") == "same" {
		infoName += ":" + field(control, "Architecture")
	}
	info := filepath.Join(root, "var/lib/dpkg/info")
	if b, err := os.ReadFile(filepath.Join(ctrl, "md5sums")); err == nil {
		writeFile(t, filepath.Join(info, infoName+".md5sums"), b)
	}
	var list []string
	for _, line := range strings.Split(strings.TrimSpace(string(run("-c", deb))), "\n") {
		// drwxr-xr-x root/root 0 2023-01-01 00:00 ./usr/bin/ [-> target]
		fields := strings.Fields(line)
		if len(fields) < 6 {
			continue
		}
		p := strings.TrimSuffix(strings.TrimPrefix(fields[5], "."), "/")
		if p == "" {
			p = "/."
		}
		list = append(list, p)
	}
	writeFile(t, filepath.Join(info, infoName+".list"), []byte(strings.Join(list, "\n")+"\n"))

	// The stanza dpkg writes: the control fields with Status after Package.
	lines := strings.SplitAfter(strings.TrimRight(string(control), "\n")+"\n", "\n")
	var stanza []byte
	for _, l := range lines {
		stanza = append(stanza, l...)
		if strings.HasPrefix(l, "Package:") {
			stanza = append(stanza, "Status: install ok installed\n"...)
		}
	}
	return append(stanza, '\n')
}

// field returns the value of a one-line control field.
func field(control []byte, name string) string {
	for _, l := range strings.Split(string(control), "\n") {
		if v, ok := strings.CutPrefix(l, name+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func writeFile(t testing.TB, p string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// tarDir returns a tar of the tree at root: entries sorted, owned by 0:0,
// mtime zero, symlinks kept as links.
func tarDir(t testing.TB, root string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		var link string
		if fi.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		h, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return err
		}
		h.Name = filepath.ToSlash(rel)
		if fi.IsDir() {
			h.Name += "/"
		}
		h.Uid, h.Gid, h.Uname, h.Gname = 0, 0, "", ""
		h.ModTime, h.AccessTime, h.ChangeTime = time.Unix(0, 0), time.Time{}, time.Time{}
		h.Format = tar.FormatPAX
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			if _, err := io.Copy(tw, f); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
