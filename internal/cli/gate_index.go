package cli

import (
	"context"
	"fmt"

	"github.com/hallmark-dev/hallmark/artifact"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/oci"
)

// indexPlatforms is a gate.IndexResolver for the one artifact resolved
// (from its registry or layout); another digest is refused, not guessed.
type indexPlatforms struct{ art *artifact.Artifact }

func (p indexPlatforms) Platforms(_ context.Context, _ string, d digest.Digest) ([]gate.Platform, error) {
	if p.art.Image == nil {
		return nil, nil
	}
	if d != p.art.Digest {
		return nil, fmt.Errorf("asked about %s, resolved %s", d, p.art.Digest)
	}
	ds, err := p.art.Image.ListedPlatforms()
	if err != nil {
		return nil, err
	}
	return gate.PlatformsOf(ds)
}

// platformSubject is the subject of results about the platform of image
// arg (digest d) that sel selects: of one platform of an index, its
// manifest digest, not d.
func (a *App) platformSubject(ctx context.Context, arg, sel string, d digest.Digest) (digest.Digest, error) {
	if sel == oci.AllPlatforms || sel == "" {
		return d, nil
	}
	art, err := a.resolveArtifact(ctx, arg)
	if err != nil || art.Image == nil {
		return d, err
	}
	h, err := art.Image.SubjectDigest(sel)
	if err != nil {
		return d, badInput(err)
	}
	return digest.FromHash(h)
}
