package gate

import (
	"context"
	"errors"
	"fmt"

	"github.com/hallmark-dev/hallmark/digest"
)

// ErrEvidenceSource is an evidence source that could not be read: the
// gate fails closed (denies) rather than decide without it.
var ErrEvidenceSource = errors.New("evidence source unavailable")

// EvidenceSource supplies bundles about an artifact kept outside the store,
// such as the Sigstore bundles attached to an image in its registry. What
// it returns is unverified: the gate verifies each bundle exactly like a
// stored one before it counts. Implementations bound what they read (count,
// size, time).
type EvidenceSource interface {
	// Bundles returns the bundles about the artifact called name (for an
	// image, its repository or reference) with digest d.
	Bundles(ctx context.Context, name string, d digest.Digest) ([][]byte, error)
}

// WithEvidenceSource makes the gate also gather the bundles src holds
// about each artifact. When src fails, Evaluate fails (a deny) and says
// why.
func WithEvidenceSource(src EvidenceSource) Option {
	return func(c *config) error {
		if src == nil {
			return errors.New("gate.WithEvidenceSource: nil source")
		}
		c.sources = append(c.sources, src)
		return nil
	}
}

// HasEvidenceSource reports whether the gate was built WithEvidenceSource.
func (g *Gate) HasEvidenceSource() bool { return len(g.sources) > 0 }

// fromSources adds the sources' bundles about req's artifact, and about
// each platform manifest of it when it is an index, to req.
func (g *Gate) fromSources(ctx context.Context, req *Request, plats []Platform) error {
	subjects := []digest.Digest{req.Artifact.Digest}
	for _, p := range plats {
		subjects = append(subjects, p.Digest)
	}
	for _, src := range g.sources {
		for _, d := range subjects {
			b, err := src.Bundles(ctx, req.Artifact.Name, d)
			if err != nil {
				return fmt.Errorf("%w: %w", ErrEvidenceSource, err)
			}
			req.Bundles = append(req.Bundles, b...)
		}
	}
	return nil
}
