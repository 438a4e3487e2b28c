package oci

import (
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// AllPlatforms selects every platform image of a multi-platform index.
const AllPlatforms = "all"

// PlatformImage is one platform's image: of an index, a manifest the index
// lists; of a single image, the image itself.
type PlatformImage struct {
	// Platform is the platform the index gives (for a single image, the
	// one its config gives).
	Platform *v1.Platform
	// Digest is the platform manifest's digest: the subject of statements
	// about this platform's contents, reachable from the index.
	Digest v1.Hash
	Image  v1.Image
}

// String names the platform as os/arch[/variant] ("unknown" when none is given).
func (p PlatformImage) String() string {
	if p.Platform == nil {
		return "unknown"
	}
	return p.Platform.String()
}

// SelectPlatforms returns the platform images sel names, in the index's
// order: AllPlatforms for every image manifest of an index (not the
// "unknown/unknown" attestation manifests docker buildx adds), or
// "os/arch[/variant]" for the one matching it. A single image is returned
// as the only platform when sel is AllPlatforms or matches its config.
func (i *Image) SelectPlatforms(sel string) ([]PlatformImage, error) {
	var want *v1.Platform
	if sel != AllPlatforms {
		p, err := v1.ParsePlatform(sel)
		if err != nil || p.OS == "" || p.Architecture == "" {
			return nil, fmt.Errorf("%w: platform %q: want os/arch[/variant] or %q", ErrImage, sel, AllPlatforms)
		}
		want = p
	}
	if i.Index == nil {
		cf, err := i.Image.ConfigFile()
		if err != nil {
			return nil, fmt.Errorf("%w: image %s: config: %w", ErrImage, i.Digest, err)
		}
		p := cf.Platform()
		if want != nil && (p == nil || !p.Satisfies(*want)) {
			return nil, fmt.Errorf("%w: image %s is %s, not %s", ErrImage, i.Digest, PlatformImage{Platform: p}, want)
		}
		return []PlatformImage{{Platform: p, Digest: i.Digest, Image: i.Image}}, nil
	}
	ds, err := i.ListedPlatforms()
	if err != nil {
		return nil, err
	}
	var out []PlatformImage
	var listed []string
	for _, d := range ds {
		listed = append(listed, PlatformImage{Platform: d.Platform}.String())
		if want != nil && (d.Platform == nil || !d.Platform.Satisfies(*want)) {
			continue
		}
		img, err := i.Index.Image(d.Digest)
		if err != nil {
			return nil, fmt.Errorf("%w: index %s: platform image %s: %w", ErrImage, i.Digest, d.Digest, err)
		}
		out = append(out, PlatformImage{Platform: d.Platform, Digest: d.Digest, Image: img})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: index %s has no %s image (it lists %s)", ErrImage, i.Digest, sel, strings.Join(listed, ", "))
	}
	return out, nil
}

// ListedPlatforms returns the platform manifests an index lists, without
// reading them: its image manifests, not the "unknown/unknown" attestation
// manifests docker buildx adds. A single image lists none.
func (i *Image) ListedPlatforms() ([]v1.Descriptor, error) {
	if i.Index == nil {
		return nil, nil
	}
	im, err := i.Index.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("%w: index %s: %w", ErrImage, i.Digest, err)
	}
	return listed(im), nil
}

// SubjectDigest is the digest statements about the platforms sel selects
// are about: the image's own digest, except for one platform of an index,
// whose manifest digest it is (the index digest would claim the other
// platforms too).
func (i *Image) SubjectDigest(sel string) (v1.Hash, error) {
	if i.Index == nil || sel == AllPlatforms {
		return i.Digest, nil
	}
	ps, err := i.SelectPlatforms(sel)
	if err != nil {
		return v1.Hash{}, err
	}
	if len(ps) != 1 {
		return i.Digest, nil
	}
	return ps[0].Digest, nil
}
