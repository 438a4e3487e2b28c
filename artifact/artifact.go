package artifact

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/internal/limits"
	"github.com/hallmark-dev/hallmark/oci"
)

// Kind says what an argument named.
type Kind string

// Kinds of artifact.
const (
	KindFile      Kind = "file"
	KindDirectory Kind = "directory"
	KindImage     Kind = "image"
	KindDigest    Kind = "digest"
)

// Errors of Resolve.
var (
	// ErrNotFound is an argument that is neither an existing path nor an
	// image reference.
	ErrNotFound = errors.New("no such file or image")
	// ErrNoRegistry is a registry image named where no registry access
	// was configured.
	ErrNoRegistry = errors.New("registry images are not available here")
)

// Artifact is what an argument names.
type Artifact struct {
	Kind Kind
	// Name names the artifact in statements: the path as given (forward
	// slashes) for a file or directory, the repository for an image,
	// empty for a bare digest.
	Name string
	// Digest identifies the artifact: a file's SHA-256, an image's
	// manifest (or index) digest; zero for a directory.
	Digest digest.Digest
	// Path is the file or directory; empty otherwise.
	Path string
	// Image is the image; nil otherwise.
	Image *oci.Image
}

// DigestString is "sha256:HEX", or "" for a directory.
func (a *Artifact) DigestString() string {
	return a.Digest.String()
}

// Resolver resolves arguments. The zero value resolves files, layouts and
// archives; registry images need an *oci.Resolver.
type Resolver struct {
	images *oci.Resolver
}

// NewResolver returns a resolver reaching registries through images (nil:
// no registry access).
func NewResolver(images *oci.Resolver) *Resolver { return &Resolver{images: images} }

// Ref is a parsed argument, before anything is read.
type Ref struct {
	Kind Kind
	// Source is oci.SourceRegistry, oci.SourceLayout or
	// oci.SourceDockerArchive for an image; "" otherwise.
	Source string
	// Path is the file, directory, layout directory or archive.
	Path string
	// Tag selects a manifest of a layout.
	Tag string
	// Ref is the registry reference.
	Ref string
	// Digest is the bare digest.
	Digest digest.Digest
}

// Parse reads arg without opening anything but the file system's
// metadata (to tell a path from a registry reference).
func Parse(arg string) (Ref, error) {
	switch {
	case arg == "":
		return Ref{}, fmt.Errorf("%w: empty argument", ErrNotFound)
	case strings.HasPrefix(arg, "sha256:"), strings.HasPrefix(arg, "sha512:"):
		// sha512 is how npm provenance names a package tarball.
		h, err := digest.Parse(arg)
		if err != nil {
			return Ref{}, fmt.Errorf("%q: want sha256:<64 lower-case hex digits> or sha512:<128 lower-case hex digits>: %w", arg, err)
		}
		return Ref{Kind: KindDigest, Digest: h}, nil
	case strings.HasPrefix(arg, "oci:"):
		rest := strings.TrimPrefix(arg, "oci:")
		dir, tag := rest, ""
		if st, err := os.Stat(rest); err != nil || !st.IsDir() {
			if i := strings.LastIndex(rest, ":"); i > 0 && !strings.Contains(rest[i+1:], "/") {
				dir, tag = rest[:i], rest[i+1:]
			}
		}
		return Ref{Kind: KindImage, Source: oci.SourceLayout, Path: dir, Tag: tag}, nil
	case strings.HasPrefix(arg, "docker-archive:"):
		return Ref{Kind: KindImage, Source: oci.SourceDockerArchive, Path: strings.TrimPrefix(arg, "docker-archive:")}, nil
	case strings.HasPrefix(arg, "registry:"), strings.HasPrefix(arg, "docker://"):
		ref := strings.TrimPrefix(strings.TrimPrefix(arg, "registry:"), "docker://")
		if _, err := name.ParseReference(ref); err != nil {
			return Ref{}, fmt.Errorf("%q: %w", arg, err)
		}
		return Ref{Kind: KindImage, Source: oci.SourceRegistry, Ref: ref}, nil
	}
	if st, err := os.Stat(arg); err == nil {
		if st.IsDir() {
			return Ref{Kind: KindDirectory, Path: arg}, nil
		}
		return Ref{Kind: KindFile, Path: arg}, nil
	}
	if looksLikeImage(arg) {
		return Ref{Kind: KindImage, Source: oci.SourceRegistry, Ref: arg}, nil
	}
	return Ref{}, fmt.Errorf("%w: %s (no such file; an image is written REGISTRY/REPO:TAG, REGISTRY/REPO@sha256:HEX, oci:DIR[:TAG] or docker-archive:FILE)", ErrNotFound, arg)
}

// looksLikeImage: a reference that parses strictly and whose first element
// names a registry host, so that "build/app" stays a (missing) path.
func looksLikeImage(arg string) bool {
	if _, err := name.ParseReference(arg); err != nil {
		return false
	}
	host, _, ok := strings.Cut(arg, "/")
	if !ok {
		return false
	}
	return strings.ContainsAny(host, ".:") || host == "localhost"
}

// Resolve parses arg and reads what it names: hashes a file, reads an
// image's manifest. A directory is returned without a digest.
func (r *Resolver) Resolve(ctx context.Context, arg string) (*Artifact, error) {
	ref, err := Parse(arg)
	if err != nil {
		return nil, err
	}
	return r.Open(ctx, ref)
}

// Open reads what ref names.
func (r *Resolver) Open(ctx context.Context, ref Ref) (*Artifact, error) {
	switch ref.Kind {
	case KindDigest:
		return &Artifact{Kind: KindDigest, Digest: ref.Digest}, nil
	case KindDirectory:
		return &Artifact{Kind: KindDirectory, Name: filepath.ToSlash(filepath.Clean(ref.Path)), Path: ref.Path}, nil
	case KindFile:
		return hashFile(ref.Path)
	}
	var img *oci.Image
	var err error
	switch ref.Source {
	case oci.SourceLayout:
		img, err = oci.OpenLayout(ref.Path, ref.Tag)
	case oci.SourceDockerArchive:
		img, err = oci.OpenDockerArchive(ctx, ref.Path)
	default:
		if r == nil || r.images == nil {
			return nil, fmt.Errorf("%w: %s", ErrNoRegistry, ref.Ref)
		}
		img, err = r.images.Image(ctx, ref.Ref)
	}
	if err != nil {
		return nil, err
	}
	d, err := digest.FromHash(img.Digest)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", img.Name, err)
	}
	return &Artifact{Kind: KindImage, Name: img.Name, Digest: d, Image: img}, nil
}

func hashFile(path string) (*Artifact, error) {
	return HashFile(path, digest.SHA256)
}

// HashFile names the regular file at path by its digest with alg
// (digest.SHA256, or digest.SHA512 as npm provenance names a package
// tarball).
func HashFile(path, alg string) (*Artifact, error) {
	if alg != digest.SHA256 && alg != digest.SHA512 {
		return nil, fmt.Errorf("%s: digest algorithm %q (want %s or %s)", path, alg, digest.SHA256, digest.SHA512)
	}
	f, err := limits.OpenFile(path) // never blocks on a FIFO
	if err != nil {
		return nil, err
	}
	defer f.Close()
	set, _, err := digest.Reader(f, alg)
	if err != nil {
		return nil, fmt.Errorf("hash %s: %w", path, err)
	}
	d, err := digest.New(alg, set[alg])
	if err != nil {
		return nil, fmt.Errorf("hash %s: %w", path, err)
	}
	return &Artifact{Kind: KindFile, Name: filepath.ToSlash(filepath.Clean(path)), Path: path, Digest: d}, nil
}
