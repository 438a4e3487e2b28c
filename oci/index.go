package oci

import (
	"bytes"
	"context"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/hallmark-dev/hallmark/digest"
)

// IndexPlatforms returns the platform manifests listed by the manifest with
// digest d in the repository of image (a reference, as written in a Pod
// spec) when that manifest is an index, with ListedPlatforms' rule, and
// none when it is a single image's manifest. It reads that one manifest
// (checked against d, bounded by the manifest limit, within the
// resolver's timeout). Errors are *ResolveError: a registry that cannot be
// read is an error, never "no platforms".
func (r *Resolver) IndexPlatforms(ctx context.Context, image string, d digest.Digest) ([]v1.Descriptor, error) {
	parsed, err := r.parse(image)
	if err != nil {
		return nil, err
	}
	if d.Algorithm() != digest.SHA256 {
		return nil, &ResolveError{Ref: image, Err: fmt.Errorf("%w: digest %q is not sha256", ErrInvalidReference, d)}
	}
	ref := parsed.Context().Digest(d.String())
	ctx, cancel := context.WithTimeout(ctx, r.cfg.timeout)
	defer cancel()
	desc, err := remote.Get(ref, r.remoteOptions(ctx)...)
	if err != nil {
		return nil, &ResolveError{Ref: ref.String(), Err: r.explain(classify(err), fmt.Errorf("read manifest: %w", err))}
	}
	if !desc.MediaType.IsIndex() {
		return nil, nil
	}
	im, err := v1.ParseIndexManifest(bytes.NewReader(desc.Manifest))
	if err != nil {
		return nil, &ResolveError{Ref: ref.String(), Err: fmt.Errorf("%w: index: %w", ErrImage, err)}
	}
	return listed(im), nil
}

// listed is ListedPlatforms' rule: an index's image manifests, not the
// "unknown/unknown" attestation manifests docker buildx adds.
func listed(im *v1.IndexManifest) []v1.Descriptor {
	var out []v1.Descriptor
	for _, d := range im.Manifests {
		if d.MediaType.IsImage() && (d.Platform == nil || d.Platform.OS != "unknown") {
			out = append(out, d)
		}
	}
	return out
}
