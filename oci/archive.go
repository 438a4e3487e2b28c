package oci

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/hallmark-dev/hallmark/internal/limits"
)

type ioReadCloser = io.ReadCloser

// archiveBlobs reads the blobs of an OCI layout held in a tar file
// (a `docker save` archive of Docker 25 or later), one pass per blob.
type archiveBlobs struct{ file string }

var errNoEntry = errors.New("no such entry")

// entry opens the archive member called name ("index.json",
// "blobs/sha256/HEX").
func (a archiveBlobs) entry(member string) (io.ReadCloser, int64, error) {
	f, err := os.Open(a.file)
	if err != nil {
		return nil, 0, err
	}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			f.Close()
			return nil, 0, fmt.Errorf("%s: %w %s", a.file, errNoEntry, member)
		}
		if err != nil {
			f.Close()
			return nil, 0, fmt.Errorf("%s: %w", a.file, err)
		}
		if strings.TrimPrefix(filepath.ToSlash(filepath.Clean(h.Name)), "./") == member && h.Typeflag == tar.TypeReg {
			return struct {
				io.Reader
				io.Closer
			}{tr, f}, h.Size, nil
		}
	}
}

func (a archiveBlobs) bytes(member string, max int64) ([]byte, error) {
	rc, _, err := a.entry(member)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return limits.ReadAll(rc, max, a.file+": "+member)
}

func blobName(h v1.Hash) string { return "blobs/" + h.Algorithm + "/" + h.Hex }

// ociInArchive reports whether file is a tar holding an OCI layout
// (index.json), and if so opens its image.
func ociInArchive(_ context.Context, file string) (*Image, bool, error) {
	a := archiveBlobs{file}
	raw, err := a.bytes("index.json", DefaultMaxManifestBytes)
	if errors.Is(err, errNoEntry) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("%w: docker archive %s: %w", ErrImage, file, err)
	}
	var idx v1.IndexManifest
	if err := json.Unmarshal(raw, &idx); err != nil {
		return nil, false, fmt.Errorf("%w: docker archive %s: index.json: %w", ErrImage, file, err)
	}
	if len(idx.Manifests) != 1 {
		return nil, false, fmt.Errorf("%w: docker archive %s holds %d images; save one", ErrImage, file, len(idx.Manifests))
	}
	d := idx.Manifests[0]
	img := &Image{Name: strings.TrimSuffix(filepath.Base(file), filepath.Ext(file)), Digest: d.Digest, MediaType: d.MediaType, Source: SourceDockerArchive}
	// Docker names the image with containerd's annotation; buildah's and
	// skopeo's oci-archive with the layout's reference name.
	// A bare tag ("v1") as the reference name names no repository.
	refName := d.Annotations[RefNameAnnotation]
	if !strings.Contains(refName, "/") {
		refName = ""
	}
	for _, ref := range []string{d.Annotations["io.containerd.image.name"], refName} {
		if ref == "" {
			continue
		}
		if r, err := name.ParseReference(ref); err == nil {
			img.Name = r.Context().Name()
			break
		}
	}
	manifest, err := a.bytes(blobName(d.Digest), DefaultMaxManifestBytes)
	if err != nil {
		return nil, false, fmt.Errorf("%w: docker archive %s: manifest: %w", ErrImage, file, err)
	}
	if err := checkDigest(manifest, d.Digest); err != nil {
		return nil, false, fmt.Errorf("%w: docker archive %s: %w", ErrImage, file, err)
	}
	mt := d.MediaType
	if mt.IsIndex() {
		// Pick the platform image as fromIndex does, from the raw index.
		var sub v1.IndexManifest
		if err := json.Unmarshal(manifest, &sub); err != nil {
			return nil, false, fmt.Errorf("%w: docker archive %s: index: %w", ErrImage, file, err)
		}
		var pick *v1.Descriptor
		for k, m := range sub.Manifests {
			if !m.MediaType.IsImage() || (m.Platform != nil && m.Platform.OS == "unknown") {
				continue
			}
			rc, _, err := a.entry(blobName(m.Digest))
			if err != nil {
				continue // a platform docker did not save
			}
			rc.Close()
			pick = &sub.Manifests[k]
			break
		}
		if pick == nil {
			return nil, false, fmt.Errorf("%w: docker archive %s: the index names no saved image", ErrImage, file)
		}
		if manifest, err = a.bytes(blobName(pick.Digest), DefaultMaxManifestBytes); err != nil {
			return nil, false, fmt.Errorf("%w: docker archive %s: %w", ErrImage, file, err)
		}
		if err := checkDigest(manifest, pick.Digest); err != nil {
			return nil, false, fmt.Errorf("%w: docker archive %s: %w", ErrImage, file, err)
		}
		mt, img.Platform = pick.MediaType, pick.Platform
	}
	im, err := partial.CompressedToImage(&archiveImage{a: a, manifest: manifest, mediaType: mt})
	if err != nil {
		return nil, false, fmt.Errorf("%w: docker archive %s: %w", ErrImage, file, err)
	}
	img.Image = im
	return img, true, nil
}

// archiveImage is one image manifest of an archived OCI layout.
type archiveImage struct {
	a         archiveBlobs
	manifest  []byte
	mediaType types.MediaType
}

var _ partial.CompressedImageCore = (*archiveImage)(nil)

func (i *archiveImage) RawManifest() ([]byte, error)        { return i.manifest, nil }
func (i *archiveImage) MediaType() (types.MediaType, error) { return i.mediaType, nil }
func (i *archiveImage) RawConfigFile() ([]byte, error)      { return i.configBytes() }
func (i *archiveImage) configBytes() ([]byte, error) {
	m, err := v1.ParseManifest(strings.NewReader(string(i.manifest)))
	if err != nil {
		return nil, err
	}
	b, err := i.a.bytes(blobName(m.Config.Digest), DefaultMaxManifestBytes)
	if err != nil {
		return nil, err
	}
	if err := checkDigest(b, m.Config.Digest); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return b, nil
}

func (i *archiveImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	m, err := v1.ParseManifest(strings.NewReader(string(i.manifest)))
	if err != nil {
		return nil, err
	}
	for _, l := range m.Layers {
		if l.Digest == h {
			return &archiveLayer{a: i.a, desc: l}, nil
		}
	}
	if m.Config.Digest == h {
		return &archiveLayer{a: i.a, desc: m.Config}, nil
	}
	return nil, fmt.Errorf("layer %s not in the manifest", h)
}

type archiveLayer struct {
	a    archiveBlobs
	desc v1.Descriptor
}

func (l *archiveLayer) Digest() (v1.Hash, error)            { return l.desc.Digest, nil }
func (l *archiveLayer) Size() (int64, error)                { return l.desc.Size, nil }
func (l *archiveLayer) MediaType() (types.MediaType, error) { return l.desc.MediaType, nil }
func (l *archiveLayer) Compressed() (io.ReadCloser, error) {
	rc, _, err := l.a.entry(blobName(l.desc.Digest))
	return rc, err
}
