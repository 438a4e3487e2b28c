package sbom_test

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/hallmark-dev/hallmark/oci/ocitest"
	"github.com/hallmark-dev/hallmark/sbom"
)

// twoVersions downloads the oldest and newest version of pkg that this
// machine's package lists offer (a point release and its security
// update), into a directory of their own so that the other tests' cache
// lookups by package name are not confused.
func twoVersions(t *testing.T, pkg string) (oldDeb, newDeb, oldV, newV string) {
	t.Helper()
	skip := func(msg string) {
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	out, err := exec.CommandContext(t.Context(), "apt-cache", "madison", pkg).Output()
	if err != nil {
		skip("apt-cache madison " + pkg + ": " + err.Error())
	}
	var versions []string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Split(line, "|")
		if len(f) < 2 {
			continue
		}
		v := strings.TrimSpace(f[1])
		if oldV == "" || exec.CommandContext(t.Context(), "dpkg", "--compare-versions", v, "lt", oldV).Run() == nil {
			oldV = v
		}
		if newV == "" || exec.CommandContext(t.Context(), "dpkg", "--compare-versions", v, "gt", newV).Run() == nil {
			newV = v
		}
		versions = append(versions, v)
	}
	if oldV == "" || oldV == newV {
		skip(pkg + ": the package lists offer one version only: " + strings.Join(versions, " "))
	}
	dir := os.Getenv(ocitest.DebCacheEnv)
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(home, ".cache", "hallmark", "debs")
	}
	dir = filepath.Join(dir, "versions")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	get := func(v string) string {
		m, _ := filepath.Glob(filepath.Join(dir, pkg+"_"+strings.ReplaceAll(v, ":", "%3a")+"_*.deb"))
		if len(m) == 0 {
			cmd := exec.CommandContext(t.Context(), "apt-get", "download", "-q", pkg+"="+v)
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				skip("apt-get download " + pkg + "=" + v + ": " + err.Error() + "\n" + string(out))
			}
			m, _ = filepath.Glob(filepath.Join(dir, pkg+"_*"+"_*.deb"))
			m = filterVersion(m, v)
		}
		if len(m) == 0 {
			t.Fatalf("no .deb of %s %s in %s", pkg, v, dir)
		}
		return m[0]
	}
	return get(oldV), get(newV), oldV, newV
}

func filterVersion(files []string, v string) []string {
	var out []string
	for _, f := range files {
		if strings.Contains(filepath.Base(f), "_"+strings.ReplaceAll(v, ":", "%3a")+"_") {
			out = append(out, f)
		}
	}
	return out
}

// layerWith returns a layer holding the entries of layer (a tar) and the
// extra ones.
func layerWith(t *testing.T, layer v1.Layer, extra ...tar.Header) v1.Layer {
	t.Helper()
	rc, err := layer.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(tw, tr); err != nil {
			t.Fatal(err)
		}
	}
	for _, h := range extra {
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestScanImageUpgradesAndWhiteouts scans a three-layer image of real
// Debian packages: layer 0 a base, layer 1 tzdata (the older of two
// real versions), python3-six and fzf, layer 2 what `apt-get install
// tzdata && apt-get purge python3-six fzf` leaves: the newer tzdata, a
// status file without the two removed packages, a whiteout of the fzf
// binary and an opaque whiteout of Python's dist-packages directory.
// The upgrade is attributed to layer 2, the base packages still to layer
// 0 (although every layer rewrites the status file), and nothing of the
// removed packages is reported: neither their Debian packages nor the
// PyPI package and Go modules their files held.
func TestScanImageUpgradesAndWhiteouts(t *testing.T) {
	oldDeb, newDeb, oldV, newV := twoVersions(t, "tzdata")
	base := []string{"base-files", "libc6", "zlib1g"}
	debs := ocitest.DownloadDebs(t, append(base, "python3-six", "fzf")...)
	debs["tzdata"] = oldDeb
	img, err := ocitest.NewDebianImage(t.Context(), t.TempDir(), debs, v1.Config{},
		ocitest.DebianLayer{CreatedBy: "ADD rootfs /", Packages: base},
		ocitest.DebianLayer{CreatedBy: "RUN apt-get install -y tzdata python3-six fzf", Packages: []string{"tzdata", "python3-six", "fzf"}})
	if err != nil {
		t.Fatal(err)
	}
	// The same base with the newer tzdata: its second layer holds the
	// newer tzdata's files and the status file of base + newer tzdata.
	debs["tzdata"] = newDeb
	upgraded, err := ocitest.NewDebianImage(t.Context(), t.TempDir(), debs, v1.Config{},
		ocitest.DebianLayer{CreatedBy: "ADD rootfs /", Packages: base},
		ocitest.DebianLayer{Packages: []string{"tzdata"}})
	if err != nil {
		t.Fatal(err)
	}
	ls, err := upgraded.Layers()
	if err != nil {
		t.Fatal(err)
	}
	epoch := time.Unix(0, 0).UTC()
	top := layerWith(t, ls[1],
		tar.Header{Name: "usr/bin/.wh.fzf", Typeflag: tar.TypeReg, Mode: 0o644, ModTime: epoch},
		tar.Header{Name: "usr/lib/python3/dist-packages/.wh..wh..opq", Typeflag: tar.TypeReg, Mode: 0o644, ModTime: epoch})
	img, err = mutate.Append(img, mutate.Addendum{Layer: top, History: v1.History{CreatedBy: "RUN apt-get install -y tzdata && apt-get purge -y python3-six fzf", Created: v1.Time{Time: epoch}}})
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	h, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	inv, err := sbom.ScanImage(t.Context(), img, sbom.ImageSubject{Name: "registry.example/upgraded", Digest: h})
	if err != nil {
		t.Fatal(err)
	}
	layerOf := map[string]int{}
	var names []string
	for _, c := range inv.Components {
		k := key(t, c.PURL)
		names = append(names, k)
		if c.Layer == nil {
			t.Errorf("%s: no layer", k)
			continue
		}
		layerOf[k] = c.Layer.Index
		if c.Layer.DiffID != cf.RootFS.DiffIDs[c.Layer.Index].String() || c.Layer.Command != cf.History[c.Layer.Index].CreatedBy {
			t.Errorf("%s: layer %+v does not match the config's layer %d", k, c.Layer, c.Layer.Index)
		}
	}
	t.Logf("components: %s", strings.Join(names, ", "))
	if got, ok := layerOf["deb tzdata "+newV]; !ok || got != 2 {
		t.Errorf("tzdata %s (the upgrade): layer %d (found %v), want 2", newV, got, ok)
	}
	if _, ok := layerOf["deb tzdata "+oldV]; ok {
		t.Errorf("tzdata %s, replaced by the upgrade, is reported", oldV)
	}
	for _, p := range base {
		v := debVersion(t, debs[p])
		if got, ok := layerOf["deb "+p+" "+v]; !ok || got != 0 {
			t.Errorf("%s %s: layer %d (found %v), want 0", p, v, got, ok)
		}
	}
	for _, k := range names {
		switch {
		case strings.HasPrefix(k, "deb python3-six "), strings.HasPrefix(k, "deb fzf "), strings.HasPrefix(k, "pypi "), strings.HasPrefix(k, "golang "):
			t.Errorf("%s: removed in layer 2, still reported", k)
		}
	}
}
