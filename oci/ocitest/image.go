package ocitest

import (
	"archive/tar"
	"bytes"
	"io"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Layer is one layer of a test image: its files (path -> contents,
// regular files, mode 0644, mtime zero) and the history entry that made it.
type Layer struct {
	Files     map[string][]byte
	CreatedBy string
}

// Image builds an OCI image of layers with config cfg (Env, Labels...).
// The same arguments give the same digest.
func Image(t testing.TB, cfg v1.Config, layers ...Layer) v1.Image {
	t.Helper()
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	for _, l := range layers {
		b := tarOf(t, l.Files)
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

func tarOf(t testing.TB, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	for _, p := range slices.Sorted(maps.Keys(files)) {
		for d := range parents(p) {
			if !dirs[d] {
				dirs[d] = true
				if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755}); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: p, Mode: 0o644, Size: int64(len(files[p]))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(files[p]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// parents yields the directories above p, outermost first.
func parents(p string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for i := 0; i < len(p); i++ {
			if p[i] == '/' && !yield(p[:i]) {
				return
			}
		}
	}
}

// WriteLayout writes img as an OCI image layout in dir, named refName
// (the org.opencontainers.image.ref.name annotation; none when empty), and
// returns its manifest digest.
func WriteLayout(t testing.TB, dir string, img v1.Image, refName string) string {
	t.Helper()
	p, opts := newLayout(t, dir, refName)
	if err := p.AppendImage(img, opts...); err != nil {
		t.Fatal(err)
	}
	return digest(t, img.Digest)
}

// newLayout creates an empty OCI image layout in dir and the options that
// name what is appended to it refName (none when empty).
func newLayout(t testing.TB, dir, refName string) (layout.Path, []layout.Option) {
	t.Helper()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	var opts []layout.Option
	if refName != "" {
		opts = append(opts, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": refName}))
	}
	return p, opts
}

// Push pushes img as repo:tag (repo without the host) and returns its
// manifest digest.
func (r *Registry) Push(t testing.TB, repoTag string, img v1.Image) string {
	t.Helper()
	ref := r.tag(t, repoTag)
	if err := remote.Write(ref, img, remote.WithContext(t.Context())); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	return digest(t, img.Digest)
}

// PushTo pushes img to ref on any registry reachable over plain HTTP (a
// registry process started by the test) and returns its digest.
func PushTo(t testing.TB, ref string, img v1.Image) string {
	t.Helper()
	tag, err := name.NewTag(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img, remote.WithContext(t.Context())); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	return digest(t, img.Digest)
}

// WithPlatform returns img with its config's os/arch[/variant] set to
// platform, as a builder for that platform would write it.
func WithPlatform(t testing.TB, img v1.Image, platform string) v1.Image {
	t.Helper()
	p, err := v1.ParsePlatform(platform)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
	out, err := mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Index builds an OCI image index of imgs, each listed with the platform
// its config gives, in order.
func Index(t testing.TB, imgs ...v1.Image) v1.ImageIndex {
	t.Helper()
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, img := range imgs {
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: cf.Platform()}})
	}
	return idx
}

// WriteIndexLayout writes idx as an OCI image layout in dir, named
// refName (none when empty), and returns the index digest.
func WriteIndexLayout(t testing.TB, dir string, idx v1.ImageIndex, refName string) string {
	t.Helper()
	p, opts := newLayout(t, dir, refName)
	if err := p.AppendIndex(idx, opts...); err != nil {
		t.Fatal(err)
	}
	return digest(t, idx.Digest)
}
