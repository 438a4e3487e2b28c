package oci

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Push uploads img to the registry under ref (a tag or digest reference;
// plain HTTP only for registries listed with WithPlainHTTPInsecure) and
// returns the digest reference of what was pushed: the repository of ref
// and the manifest digest, the subject of statements about the image.
func (r *Resolver) Push(ctx context.Context, ref string, img v1.Image) (name.Digest, error) {
	parsed, err := r.parse(ref)
	if err != nil {
		return name.Digest{}, err
	}
	d, err := img.Digest()
	if err != nil {
		return name.Digest{}, fmt.Errorf("push %s: %w", ref, err)
	}
	if err := remote.Write(parsed, img, r.remoteOptions(ctx)...); err != nil {
		return name.Digest{}, &ResolveError{Ref: ref, Err: r.explain(classify(err), fmt.Errorf("push: %w", err))}
	}
	return parsed.Context().Digest(d.String()), nil
}
