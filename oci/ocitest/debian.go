package ocitest

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
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
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		skipOrFail(t, "dpkg-deb not found: the Debian image tests need it to unpack .deb files")
	}
	img, err := NewDebianImage(t.Context(), t.TempDir(), debs, cfg, layers...)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// NewDebianImage is DebianImage for programs (the benchmarks): debs maps
// each package to its .deb file, and layers are unpacked under work.
func NewDebianImage(ctx context.Context, work string, debs map[string]string, cfg v1.Config, layers ...DebianLayer) (v1.Image, error) {
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	var status []byte
	for i, l := range layers {
		root := filepath.Join(work, fmt.Sprintf("layer%d", i))
		for _, p := range l.Packages {
			deb, ok := debs[p]
			if !ok {
				return nil, fmt.Errorf("no .deb for %s", p)
			}
			stanza, err := installDeb(ctx, root, p, deb)
			if err != nil {
				return nil, err
			}
			status = append(status, stanza...)
		}
		if err := writeFile(filepath.Join(root, "var/lib/dpkg/status"), status); err != nil {
			return nil, err
		}
		layerTar := filepath.Join(work, fmt.Sprintf("layer%d.tar", i))
		if err := tarDir(root, layerTar); err != nil {
			return nil, err
		}
		if err := os.RemoveAll(root); err != nil {
			return nil, err
		}
		layer, err := tarball.LayerFromFile(layerTar, tarball.WithMediaType(types.OCILayer))
		if err != nil {
			return nil, err
		}
		if img, err = mutate.Append(img, mutate.Addendum{Layer: layer, History: v1.History{CreatedBy: l.CreatedBy, Created: v1.Time{Time: time.Unix(0, 0).UTC()}}}); err != nil {
			return nil, err
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Config = cfg
	cf.OS, cf.Architecture = "linux", "amd64"
	return mutate.ConfigFile(img, cf)
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
	_, missing := FindDebs(dir, pkgs...)
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
	debs, missing := FindDebs(dir, pkgs...)
	if len(missing) > 0 {
		t.Fatalf("apt-get download %s left no .deb in %s", strings.Join(missing, " "), dir)
	}
	return debs
}

// FindDebs returns the .deb file in dir of each named package (the latest
// by name when several versions are there) and the packages it lacks.
func FindDebs(dir string, pkgs ...string) (debs map[string]string, missing []string) {
	debs = map[string]string{}
	for _, p := range pkgs {
		m, _ := filepath.Glob(filepath.Join(dir, p+"_*_*.deb"))
		if len(m) == 0 {
			missing = append(missing, p)
			continue
		}
		slices.Sort(m)
		debs[p] = m[len(m)-1]
	}
	return debs, missing
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
func installDeb(ctx context.Context, root, pkg, deb string) ([]byte, error) {
	run := func(args ...string) ([]byte, error) {
		out, err := exec.CommandContext(ctx, "dpkg-deb", args...).Output()
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return nil, fmt.Errorf("dpkg-deb %s: %w\n%s", strings.Join(args, " "), err, ee.Stderr)
			}
			return nil, fmt.Errorf("dpkg-deb: %w", err)
		}
		return out, nil
	}
	if _, err := run("-x", deb, root); err != nil {
		return nil, err
	}
	control, err := run("-f", deb)
	if err != nil {
		return nil, err
	}
	md5sums, err := run("--ctrl-tarfile", deb)
	if err != nil {
		return nil, err
	}
	listing, err := run("-c", deb)
	if err != nil {
		return nil, err
	}
	infoName := pkg
	if field(control, "Multi-Arch") == "same" {
		infoName += ":" + field(control, "Architecture")
	}
	info := filepath.Join(root, "var/lib/dpkg/info")
	if b, err := member(md5sums, "md5sums"); err != nil {
		return nil, fmt.Errorf("%s: %w", deb, err)
	} else if b != nil {
		if err := writeFile(filepath.Join(info, infoName+".md5sums"), b); err != nil {
			return nil, err
		}
	}
	var list []string
	for _, line := range strings.Split(strings.TrimSpace(string(listing)), "\n") {
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
	if err := writeFile(filepath.Join(info, infoName+".list"), []byte(strings.Join(list, "\n")+"\n")); err != nil {
		return nil, err
	}
	// The stanza dpkg writes: the control fields with Status after Package.
	var stanza []byte
	for _, l := range strings.SplitAfter(strings.TrimRight(string(control), "\n")+"\n", "\n") {
		stanza = append(stanza, l...)
		if strings.HasPrefix(l, "Package:") {
			stanza = append(stanza, "Status: install ok installed\n"...)
		}
	}
	return append(stanza, '\n'), nil
}

// member returns the contents of the named member of a tar (nil when absent).
func member(tarBytes []byte, name string) ([]byte, error) {
	tr := tar.NewReader(bytes.NewReader(tarBytes))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if strings.TrimPrefix(h.Name, "./") == name {
			return io.ReadAll(tr)
		}
	}
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

func writeFile(p string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, b, 0o644)
}

// tarDir writes a tar of the tree at root to file: entries sorted, owned
// by 0:0, mtime zero, symlinks kept as links.
func tarDir(root, file string) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
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
			src, err := os.Open(p)
			if err != nil {
				return err
			}
			defer src.Close()
			if _, err := io.Copy(tw, src); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return f.Close()
}
