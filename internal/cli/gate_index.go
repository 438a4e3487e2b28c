package cli

import (
	"context"
	"fmt"

	"github.com/hallmark-dev/hallmark/artifact"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/oci"
)

// indexPlatforms lists the platform manifests of the image the gate was
// asked about, read from its registry or layout when it was resolved.
type indexPlatforms struct{ art *artifact.Artifact }

// Platforms implements gate.IndexResolver for the one resolved artifact; a
// digest other than its own is refused (fail closed) rather than guessed.
func (p indexPlatforms) Platforms(_ context.Context, _ string, d digest.Digest) ([]gate.Platform, error) {
	if p.art == nil || p.art.Image == nil {
		return nil, nil
	}
	if d != p.art.Digest {
		return nil, fmt.Errorf("asked about %s, resolved %s", d, p.art.Digest)
	}
	if p.art.Image.Index == nil {
		return nil, nil
	}
	im, err := p.art.Image.Index.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("index manifest: %w", err)
	}
	var out []gate.Platform
	for _, m := range im.Manifests {
		// Like SelectPlatforms: image manifests, not the "unknown/unknown"
		// attestation manifests docker buildx adds.
		if !m.MediaType.IsImage() || (m.Platform != nil && m.Platform.OS == "unknown") {
			continue
		}
		d, err := digest.Parse(m.Digest.String())
		if err != nil {
			return nil, fmt.Errorf("platform manifest %s: %w", m.Digest, err)
		}
		out = append(out, gate.Platform{Digest: d, Name: oci.PlatformImage{Platform: m.Platform}.String()})
	}
	return out, nil
}

// scanSubject is the subject of signed scan results about arg: with one
// platform of an index selected, that platform's manifest (the index's
// digest would claim the other platforms were scanned too); else arg's.
func (a *App) scanSubject(ctx context.Context, arg, platform string) (digest.Digest, string, error) {
	if platform == "" || platform == oci.AllPlatforms {
		return a.artifactDigest(ctx, arg)
	}
	ref, err := artifact.Parse(arg)
	if err != nil || ref.Kind != artifact.KindImage {
		return a.artifactDigest(ctx, arg)
	}
	art, err := a.resolveArtifact(ctx, arg)
	if err != nil {
		return digest.Digest{}, "", err
	}
	if art.Image == nil || art.Image.Index == nil {
		return art.Digest, art.Name, nil
	}
	plats, err := art.Image.SelectPlatforms(platform)
	if err != nil {
		return digest.Digest{}, "", badInput(err)
	}
	d, err := digest.Parse(plats[0].Digest.String())
	if err != nil {
		return digest.Digest{}, "", badInput(fmt.Errorf("%s: platform %s: %w", arg, plats[0], err))
	}
	return d, art.Name, nil
}
