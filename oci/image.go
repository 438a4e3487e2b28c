package oci

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Where an Image was read from.
const (
	SourceRegistry      = "registry"
	SourceLayout        = "oci-layout"
	SourceDockerArchive = "docker-archive"
)

// RefNameAnnotation names a manifest in an OCI layout's index.json.
const RefNameAnnotation = "org.opencontainers.image.ref.name"

// ErrImage is an image that cannot be read: a layout without the named
// manifest, an archive that is not a docker save archive, a manifest whose
// bytes do not hash to its digest.
var ErrImage = errors.New("bad image")

// Image is a container image, or a multi-platform index, read from a
// registry, an OCI image layout or a docker save archive.
type Image struct {
	// Name names the image in statements: the repository
	// ("registry.example:5000/team/app", no tag or digest) for a registry
	// image, as cosign and SLSA name subjects; for a layout or archive the
	// repository of its reference annotation or tag when it has one, else
	// the directory or file name.
	Name string
	// Digest is the digest of the manifest (of the index, for a
	// multi-platform image): the subject of statements about the image.
	Digest v1.Hash
	// MediaType is the manifest's (or index's) media type.
	MediaType types.MediaType
	// Source is SourceRegistry, SourceLayout or SourceDockerArchive.
	Source string
	// Ref is the digest reference in the registry; zero for other sources.
	Ref name.Digest
	// Index is the multi-platform index; nil for a single image.
	Index v1.ImageIndex
	// Image is the image whose contents are scanned: the image itself, or
	// for an index the platform manifest chosen by Platform.
	Image v1.Image
	// Platform is the platform of Image when it was chosen from an index.
	Platform *v1.Platform
}

// IsIndex reports whether the image is a multi-platform index.
func (i *Image) IsIndex() bool { return i.Index != nil }

// Image reads the image ref names from its registry (HTTPS unless the
// registry is listed with WithPlainHTTPInsecure, credentials from the
// resolver's keychain). Manifests are bounded by the manifest limit; layers
// are read lazily by whoever reads Image, bounded by the blob limit. The
// caller's ctx bounds all of it, including later layer reads.
func (r *Resolver) Image(ctx context.Context, ref string) (*Image, error) {
	parsed, err := r.parse(ref)
	if err != nil {
		return nil, err
	}
	desc, err := remote.Get(parsed, r.remoteOptions(ctx)...)
	if err != nil {
		return nil, &ResolveError{Ref: ref, Err: r.explain(classify(err), err)}
	}
	img := &Image{
		Name: parsed.Context().Name(), Digest: desc.Digest, MediaType: desc.MediaType,
		Source: SourceRegistry, Ref: parsed.Context().Digest(desc.Digest.String()),
	}
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, &ResolveError{Ref: ref, Err: fmt.Errorf("%w: %w", ErrRegistry, err)}
		}
		if err := img.fromIndex(idx); err != nil {
			return nil, &ResolveError{Ref: ref, Err: err}
		}
		return img, nil
	}
	if img.Image, err = desc.Image(); err != nil {
		return nil, &ResolveError{Ref: ref, Err: fmt.Errorf("%w: %w", ErrRegistry, err)}
	}
	return img, nil
}

// parse parses ref, with plain HTTP for registries listed as insecure.
func (r *Resolver) parse(ref string) (name.Reference, error) {
	parsed, err := name.ParseReference(ref)
	if err != nil {
		return nil, &ResolveError{Ref: ref, Err: fmt.Errorf("%w: %v", ErrInvalidReference, err)}
	}
	if r.cfg.insecure[strings.ToLower(parsed.Context().RegistryStr())] {
		if parsed, err = name.ParseReference(ref, name.Insecure); err != nil {
			return nil, &ResolveError{Ref: ref, Err: fmt.Errorf("%w: %v", ErrInvalidReference, err)}
		}
	}
	return parsed, nil
}

// remoteOptions are the options of every registry request but
// resolution's: the guarded transport, credentials, the caller's context.
func (r *Resolver) remoteOptions(ctx context.Context) []remote.Option {
	opts := []remote.Option{remote.WithContext(ctx), remote.WithTransport(r.rt), remote.WithUserAgent("hallmark")}
	if r.keychain != nil {
		opts = append(opts, remote.WithAuthFromKeychain(r.keychain))
	}
	return opts
}

// fromIndex records idx and picks the platform image to scan: linux on
// this machine's architecture, else the first linux image, else the first
// image.
func (i *Image) fromIndex(idx v1.ImageIndex) error {
	i.Index = idx
	im, err := idx.IndexManifest()
	if err != nil {
		return fmt.Errorf("%w: index: %w", ErrImage, err)
	}
	var pick *v1.Descriptor
	score := func(d v1.Descriptor) int {
		switch {
		case !d.MediaType.IsImage():
			return 0
		case d.Platform != nil && d.Platform.OS == "linux" && d.Platform.Architecture == runtime.GOARCH:
			return 3
		case d.Platform != nil && d.Platform.OS == "linux":
			return 2
		case d.Platform == nil || d.Platform.OS != "unknown":
			return 1
		}
		return 0 // attestation manifests of buildx ("unknown/unknown")
	}
	best := 0
	for k, d := range im.Manifests {
		if s := score(d); s > best {
			best, pick = s, &im.Manifests[k]
		}
	}
	if pick == nil {
		return fmt.Errorf("%w: index %s lists no image manifest", ErrImage, i.Digest)
	}
	img, err := idx.Image(pick.Digest)
	if err != nil {
		return fmt.Errorf("%w: platform image %s: %w", ErrImage, pick.Digest, err)
	}
	i.Image, i.Platform = img, pick.Platform
	return nil
}

// OpenLayout reads the image of an OCI image layout directory. With tag
// empty the layout must list exactly one manifest; otherwise the one whose
// org.opencontainers.image.ref.name annotation is tag (or ends in ":tag").
// The manifest's bytes must hash to the digest index.json gives.
func OpenLayout(dir, tag string) (*Image, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: OCI layout %s: %w", ErrImage, dir, err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("%w: OCI layout %s: %w", ErrImage, dir, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("%w: OCI layout %s: index.json: %w", ErrImage, dir, err)
	}
	var matches []v1.Descriptor
	var names []string
	for _, d := range im.Manifests {
		ref := d.Annotations[RefNameAnnotation]
		if ref != "" {
			names = append(names, ref)
		}
		if tag == "" || ref == tag || strings.HasSuffix(ref, ":"+tag) {
			matches = append(matches, d)
		}
	}
	switch {
	case len(matches) == 0 && tag != "":
		return nil, fmt.Errorf("%w: OCI layout %s has no manifest named %q (it has %q)", ErrImage, dir, tag, names)
	case len(matches) == 0:
		return nil, fmt.Errorf("%w: OCI layout %s lists no manifest", ErrImage, dir)
	case len(matches) > 1:
		return nil, fmt.Errorf("%w: OCI layout %s lists %d manifests; name one as oci:%s:TAG (it has %q)", ErrImage, dir, len(matches), dir, names)
	}
	d := matches[0]
	raw, err := p.Bytes(d.Digest)
	if err != nil {
		return nil, fmt.Errorf("%w: OCI layout %s: manifest %s: %w", ErrImage, dir, d.Digest, err)
	}
	if err := checkDigest(raw, d.Digest); err != nil {
		return nil, fmt.Errorf("%w: OCI layout %s: %w", ErrImage, dir, err)
	}
	img := &Image{Name: layoutName(d.Annotations[RefNameAnnotation], dir), Digest: d.Digest, MediaType: d.MediaType, Source: SourceLayout}
	if d.MediaType.IsIndex() {
		sub, err := idx.ImageIndex(d.Digest)
		if err != nil {
			return nil, fmt.Errorf("%w: OCI layout %s: %w", ErrImage, dir, err)
		}
		if err := img.fromIndex(sub); err != nil {
			return nil, err
		}
		return img, nil
	}
	if img.Image, err = idx.Image(d.Digest); err != nil {
		return nil, fmt.Errorf("%w: OCI layout %s: %w", ErrImage, dir, err)
	}
	return img, nil
}

// layoutName is the repository of a full reference annotation
// ("registry.example/app:v1"), else the directory's name.
func layoutName(ref, dir string) string {
	if strings.Contains(ref, "/") {
		if r, err := name.ParseReference(ref); err == nil {
			return r.Context().Name()
		}
	}
	return filepath.Base(filepath.Clean(dir))
}

// OpenDockerArchive reads the image of a `docker save` archive. An archive
// in the OCI layout form (Docker 25 and later write index.json) is read as
// a layout, so its digest is the manifest digest Docker pushes; the older
// form has no manifest, and the digest is that of the manifest
// go-containerregistry's tarball package derives (uncompressed layers
// compressed with gzip), which a registry push of the same image may not
// reproduce.
func OpenDockerArchive(ctx context.Context, file string) (*Image, error) {
	if img, ok, err := ociInArchive(ctx, file); err != nil || ok {
		return img, err
	}
	m, err := tarball.LoadManifest(func() (ioReadCloser, error) { return os.Open(file) })
	if err != nil {
		return nil, fmt.Errorf("%w: docker archive %s: %w", ErrImage, file, err)
	}
	if len(m) != 1 {
		return nil, fmt.Errorf("%w: docker archive %s holds %d images; save one", ErrImage, file, len(m))
	}
	im, err := tarball.ImageFromPath(file, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: docker archive %s: %w", ErrImage, file, err)
	}
	h, err := im.Digest()
	if err != nil {
		return nil, fmt.Errorf("%w: docker archive %s: %w", ErrImage, file, err)
	}
	mt, _ := im.MediaType()
	n := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	if tags := m[0].RepoTags; len(tags) > 0 {
		if t, err := name.NewTag(tags[0]); err == nil {
			n = t.Context().Name()
		}
	}
	return &Image{Name: n, Digest: h, MediaType: mt, Source: SourceDockerArchive, Image: im}, nil
}

func checkDigest(raw []byte, want v1.Hash) error {
	if want.Algorithm != "sha256" {
		return fmt.Errorf("manifest digest %s is not sha256", want)
	}
	sum := sha256.Sum256(raw)
	if got := hex.EncodeToString(sum[:]); got != want.Hex {
		return fmt.Errorf("manifest %s hashes to sha256:%s", want, got)
	}
	return nil
}

// Platforms lists the platform manifests of an index, sorted by platform.
func (i *Image) Platforms() ([]v1.Descriptor, error) {
	if i.Index == nil {
		return nil, nil
	}
	im, err := i.Index.IndexManifest()
	if err != nil {
		return nil, err
	}
	out := slices.Clone(im.Manifests)
	slices.SortFunc(out, func(a, b v1.Descriptor) int {
		pa, pb := "", ""
		if a.Platform != nil {
			pa = a.Platform.String()
		}
		if b.Platform != nil {
			pb = b.Platform.String()
		}
		return strings.Compare(pa, pb)
	})
	return out, nil
}
