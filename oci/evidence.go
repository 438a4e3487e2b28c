package oci

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/hallmark-dev/hallmark/digest"
)

// Defaults of RegistryEvidence.
const (
	// DefaultEvidenceTimeout bounds listing and fetching the bundles of
	// one image.
	DefaultEvidenceTimeout = 10 * time.Second
	// DefaultEvidenceCacheSize bounds the bundles kept in memory by their
	// referrer's manifest digest (immutable, so never stale).
	DefaultEvidenceCacheSize = 512
	// maxCachedBundle is the largest bundle kept in the cache.
	maxCachedBundle = 1 << 20
)

// RegistryEvidence reads the Sigstore bundles attached to images: the gate's
// evidence source for images whose evidence lives next to them in the
// registry. Each read is bounded in count (Referrers' limit), size
// (limits.MaxBundleBytes per bundle) and time; bundles are cached by the
// digest of the artifact manifest that carries them. It is safe for
// concurrent use.
type RegistryEvidence struct {
	r       *Resolver
	max     int
	timeout time.Duration
	cache   *lru.Cache[v1.Hash, []byte]
}

// NewRegistryEvidence returns an evidence source reading through r, at most
// max bundles per image (DefaultMaxReferrers when max <= 0), each image
// within timeout (DefaultEvidenceTimeout when <= 0).
func NewRegistryEvidence(r *Resolver, max int, timeout time.Duration) (*RegistryEvidence, error) {
	if r == nil {
		return nil, errors.New("oci.NewRegistryEvidence: nil resolver")
	}
	if max <= 0 {
		max = DefaultMaxReferrers
	}
	if timeout <= 0 {
		timeout = DefaultEvidenceTimeout
	}
	c, err := lru.New[v1.Hash, []byte](DefaultEvidenceCacheSize)
	if err != nil {
		return nil, err
	}
	return &RegistryEvidence{r: r, max: max, timeout: timeout, cache: c}, nil
}

// Bundles returns the bundles attached to the image whose repository (or
// any reference in it) is image and whose manifest digest is digest. A
// registry that cannot be reached, or an attachment that cannot be read,
// is an error: the caller fails closed.
func (e *RegistryEvidence) Bundles(ctx context.Context, image string, d digest.Digest) ([][]byte, error) {
	ref, err := name.ParseReference(image)
	if err != nil {
		return nil, &ResolveError{Ref: image, Err: fmt.Errorf("%w: %v", ErrInvalidReference, err)}
	}
	if d.Algorithm() != digest.SHA256 {
		return nil, &ResolveError{Ref: image, Err: fmt.Errorf("%w: digest %q is not sha256", ErrInvalidReference, d)}
	}
	img := ref.Context().Digest(d.String())
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	refs, err := e.r.Referrers(ctx, img, e.max)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, 0, len(refs))
	for _, rf := range refs {
		if b, ok := e.cache.Get(rf.Digest); ok {
			out = append(out, b)
			continue
		}
		b, err := e.r.FetchBundle(ctx, img, rf)
		if err != nil {
			return nil, err
		}
		if len(b) <= maxCachedBundle {
			e.cache.Add(rf.Digest, b)
		}
		out = append(out, b)
	}
	return out, nil
}
