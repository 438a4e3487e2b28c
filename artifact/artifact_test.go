package artifact_test

import (
	"archive/tar"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/hallmark-dev/hallmark/artifact"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/oci"
	"github.com/hallmark-dev/hallmark/oci/ocitest"
)

func TestParse(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "app.bin")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	hex := "sha256:" + fmtHex('a')
	for arg, want := range map[string]artifact.Ref{
		file:                                 {Kind: artifact.KindFile, Path: file},
		dir:                                  {Kind: artifact.KindDirectory, Path: dir},
		hex:                                  {Kind: artifact.KindDigest},
		"registry.example/team/app:v1":       {Kind: artifact.KindImage, Source: oci.SourceRegistry, Ref: "registry.example/team/app:v1"},
		"localhost:5000/app@" + hex:          {Kind: artifact.KindImage, Source: oci.SourceRegistry, Ref: "localhost:5000/app@" + hex},
		"localhost/app":                      {Kind: artifact.KindImage, Source: oci.SourceRegistry, Ref: "localhost/app"},
		"docker://nginx:1.27":                {Kind: artifact.KindImage, Source: oci.SourceRegistry, Ref: "nginx:1.27"},
		"oci:" + dir:                         {Kind: artifact.KindImage, Source: oci.SourceLayout, Path: dir},
		"oci:" + dir + ":v1":                 {Kind: artifact.KindImage, Source: oci.SourceLayout, Path: dir, Tag: "v1"},
		"docker-archive:" + dir + "/img.tar": {Kind: artifact.KindImage, Source: oci.SourceDockerArchive, Path: dir + "/img.tar"},
	} {
		got, err := artifact.Parse(arg)
		if err != nil {
			t.Errorf("%s: %v", arg, err)
			continue
		}
		got.Digest = digest.Digest{}
		if got != want {
			t.Errorf("%s: %+v, want %+v", arg, got, want)
		}
	}
	// A missing relative path stays a path, not an image on Docker Hub.
	for _, arg := range []string{"build/app", "app:v1", "dist/app.tar"} {
		if _, err := artifact.Parse(arg); !errors.Is(err, artifact.ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", arg, err)
		}
	}
	// A digest argument is read by digest.Parse: lower-case hex only (the
	// old parser lower-cased it, unlike the rest of the request).
	for _, arg := range []string{"sha256:xyz", "sha256:" + fmtHex('A')} {
		if _, err := artifact.Parse(arg); !errors.Is(err, digest.ErrMalformed) {
			t.Errorf("Parse(%q) = %v, want digest.ErrMalformed", arg, err)
		}
	}
}

func fmtHex(c byte) string {
	b := make([]byte, 64)
	for i := range b {
		b[i] = c
	}
	return string(b)
}

// The same image as an OCI layout, a docker save archive of either form,
// and in a registry resolves to one subject.
func TestResolveImageSources(t *testing.T) {
	img := ocitest.Image(t, v1.Config{}, ocitest.Layer{Files: map[string][]byte{"etc/motd": []byte("hi\n")}})
	want, _ := img.Digest()
	dir := t.TempDir()
	layoutDir := filepath.Join(dir, "layout")
	ocitest.WriteLayout(t, layoutDir, img, "registry.example/team/app:v1")
	ociTar := filepath.Join(dir, "oci.tar")
	tarDir(t, layoutDir, ociTar)

	r := artifact.NewResolver(nil)
	for _, arg := range []string{"oci:" + layoutDir, "oci:" + layoutDir + ":v1", "docker-archive:" + ociTar} {
		a, err := r.Resolve(t.Context(), arg)
		if err != nil {
			t.Fatalf("%s: %v", arg, err)
		}
		if a.Kind != artifact.KindImage || a.Digest.Hash() != want {
			t.Errorf("%s: %s %s, want image %s", arg, a.Kind, a.Digest, want)
		}
		if arg != "docker-archive:"+ociTar && a.Name != "registry.example/team/app" {
			t.Errorf("%s: name %q", arg, a.Name)
		}
		layers, err := a.Image.Image.Layers()
		if err != nil || len(layers) != 1 {
			t.Fatalf("%s: layers %v %v", arg, layers, err)
		}
	}
	if _, err := r.Resolve(t.Context(), "oci:"+layoutDir+":v2"); !errors.Is(err, oci.ErrImage) {
		t.Errorf("missing tag: %v", err)
	}

	// The legacy docker save form: no manifest inside; the name is its tag's repository.
	legacy := filepath.Join(dir, "legacy.tar")
	tag, _ := name.NewTag("registry.example/team/app:v1")
	if err := tarball.WriteToFile(legacy, tag, img); err != nil {
		t.Fatal(err)
	}
	a, err := r.Resolve(t.Context(), "docker-archive:"+legacy)
	if err != nil {
		t.Fatal(err)
	}
	if a.Name != "registry.example/team/app" || a.Digest.IsZero() {
		t.Errorf("legacy archive: %+v", a)
	}

	// Registry images need a registry client.
	if _, err := r.Resolve(t.Context(), "registry.example/team/app:v1"); !errors.Is(err, artifact.ErrNoRegistry) {
		t.Errorf("registry image without a client: %v", err)
	}

	// A layout whose manifest does not hash to its digest is refused.
	tampered := filepath.Join(dir, "layout", "blobs", "sha256", want.Hex)
	if err := os.WriteFile(tampered, []byte(`{"schemaVersion":2}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Resolve(t.Context(), "oci:"+layoutDir); !errors.Is(err, oci.ErrImage) {
		t.Errorf("tampered layout: %v, want ErrImage", err)
	}
}

func tarDir(t *testing.T, dir, out string) {
	t.Helper()
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		st, _ := d.Info()
		if err := tw.WriteHeader(&tar.Header{Name: filepath.ToSlash(rel), Mode: 0o644, Size: st.Size(), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		src, err := os.Open(p)
		if err != nil {
			return err
		}
		defer src.Close()
		_, err = io.Copy(tw, src)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestHashFileSHA512(t *testing.T) {
	p := filepath.Join(t.TempDir(), "pkg.tgz")
	if err := os.WriteFile(p, []byte("tarball"), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha512.Sum512([]byte("tarball"))
	a, err := artifact.HashFile(p, "sha512")
	if err != nil || a.DigestString() != "sha512:"+hex.EncodeToString(sum[:]) {
		t.Fatalf("HashFile = %v, %v", a, err)
	}
	if _, err := artifact.HashFile(p, "md5"); err == nil {
		t.Fatal("md5 accepted")
	}
	ref, err := artifact.Parse("sha512:" + hex.EncodeToString(sum[:]))
	if err != nil || ref.Kind != artifact.KindDigest || ref.Digest.Algorithm() != "sha512" {
		t.Fatalf("Parse sha512 = %+v, %v", ref, err)
	}
	if _, err := artifact.Parse("sha512:abcd"); err == nil {
		t.Fatal("short sha512 accepted")
	}
}
