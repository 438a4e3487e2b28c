package oci_test

import (
	"archive/tar"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/hallmark-dev/hallmark/oci"
	"github.com/hallmark-dev/hallmark/oci/ocitest"
)

func smallImage(t *testing.T, content string) v1.Image {
	return ocitest.Image(t, v1.Config{}, ocitest.Layer{CreatedBy: "ADD", Files: map[string][]byte{"f": []byte(content)}})
}

func TestOpenBuildOutput(t *testing.T) {
	dir := t.TempDir()
	img := smallImage(t, "a")
	want, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	layoutDir := filepath.Join(dir, "layout")
	ocitest.WriteLayout(t, layoutDir, img, "registry.example/team/app:v1")
	dockerTar := filepath.Join(dir, "docker.tar")
	if err := tarball.WriteToFile(dockerTar, mustTag(t, "registry.example/team/app:v1"), img); err != nil {
		t.Fatal(err)
	}
	plainTar := filepath.Join(dir, "src.tar")
	writeTar(t, plainTar, map[string]string{"index.json": "{}", "README": "not an image"})
	notImage := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notImage, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path   string
		ok     bool
		digest bool // the digest is the layout's manifest digest
	}{
		{layoutDir, true, true},
		{dockerTar, true, false}, // the manifest go-containerregistry derives
		{plainTar, false, false},
		{notImage, false, false},
		{dir, false, false},
	} {
		got, ok, err := oci.OpenBuildOutput(t.Context(), tc.path)
		if err != nil || ok != tc.ok {
			t.Errorf("%s: ok %v, err %v; want ok %v", tc.path, ok, err, tc.ok)
			continue
		}
		if ok && got.Name != "registry.example/team/app" {
			t.Errorf("%s: name %q, want the repository", tc.path, got.Name)
		}
		if tc.digest && got.Digest != want {
			t.Errorf("%s: digest %s, want %s", tc.path, got.Digest, want)
		}
	}

	// A layout of two images is an image output that cannot be one product.
	two := filepath.Join(dir, "two")
	ocitest.WriteLayout(t, two, img, "a")
	lp, err := layout.FromPath(two)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendImage(smallImage(t, "b")); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := oci.OpenBuildOutput(t.Context(), two); ok || !errors.Is(err, oci.ErrImage) {
		t.Errorf("layout of two images: ok %v, err %v; want ErrImage", ok, err)
	}
}

func TestSelectPlatforms(t *testing.T) {
	amd := ocitest.WithPlatform(t, smallImage(t, "amd"), "linux/amd64")
	arm := ocitest.WithPlatform(t, smallImage(t, "arm"), "linux/arm/v7")
	dir := filepath.Join(t.TempDir(), "layout")
	ocitest.WriteIndexLayout(t, dir, ocitest.Index(t, amd, arm), "")
	img, err := oci.OpenLayout(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	for sel, want := range map[string][]string{
		oci.AllPlatforms: {"linux/amd64", "linux/arm/v7"},
		"linux/arm/v7":   {"linux/arm/v7"},
		"linux/amd64":    {"linux/amd64"},
	} {
		got, err := img.SelectPlatforms(sel)
		if err != nil {
			t.Errorf("%s: %v", sel, err)
			continue
		}
		var names []string
		for _, p := range got {
			names = append(names, p.String())
			if d, _ := p.Image.Digest(); d != p.Digest {
				t.Errorf("%s: image digest %s, descriptor %s", p, d, p.Digest)
			}
		}
		if len(names) != len(want) || names[0] != want[0] {
			t.Errorf("%s: %v, want %v", sel, names, want)
		}
	}
	for _, sel := range []string{"linux/s390x", "linux", "", "windows/amd64"} {
		if _, err := img.SelectPlatforms(sel); !errors.Is(err, oci.ErrImage) {
			t.Errorf("%q: err %v, want ErrImage", sel, err)
		}
	}
	// A single image is its own platform, and no other.
	single, err := oci.OpenLayout(writeSingle(t, amd), "")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := single.SelectPlatforms(oci.AllPlatforms); err != nil || len(got) != 1 || got[0].String() != "linux/amd64" {
		t.Errorf("single image, all: %v %v", got, err)
	}
	if _, err := single.SelectPlatforms("linux/arm64"); !errors.Is(err, oci.ErrImage) {
		t.Errorf("single amd64 image as linux/arm64: err %v, want ErrImage", err)
	}
}

func writeSingle(t *testing.T, img v1.Image) string {
	dir := filepath.Join(t.TempDir(), "single")
	ocitest.WriteLayout(t, dir, img, "")
	return dir
}

func writeTar(t *testing.T, file string, members map[string]string) {
	t.Helper()
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	for n, c := range members {
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(c)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(c)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
}

func mustTag(t *testing.T, ref string) name.Tag {
	t.Helper()
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	return tag
}
