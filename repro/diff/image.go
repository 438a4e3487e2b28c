package diff

import (
	"context"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Images compares two container images and explains how they differ: the
// config (as JSON text, with the likely causes of each change), and each
// layer by position, whose tar is compared member by member so that the
// report names the files inside the layer ("layer 2 sha256:…!app") and
// their differing contents, times, modes and owners. Layers with equal
// diff IDs are not read. The digests are the manifest digests.
func Images(ctx context.Context, nameA string, a v1.Image, nameB string, b v1.Image, opts ...Option) (*Report, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	c := &comparer{cfg: cfg, report: &Report{A: nameA, B: nameB, Differences: []Difference{}}}
	defer c.close()
	da, err := a.Digest()
	if err != nil {
		return nil, fmt.Errorf("diff %s: %w", nameA, err)
	}
	db, err := b.Digest()
	if err != nil {
		return nil, fmt.Errorf("diff %s: %w", nameB, err)
	}
	c.report.DigestA, c.report.DigestB = da.String(), db.String()
	c.report.Identical = da == db
	if c.report.Identical {
		return c.report, nil
	}
	ca, err := a.RawConfigFile()
	if err != nil {
		return nil, fmt.Errorf("diff %s: config: %w", nameA, err)
	}
	cb, err := b.RawConfigFile()
	if err != nil {
		return nil, fmt.Errorf("diff %s: config: %w", nameB, err)
	}
	if err := c.compare(ctx, "config", "config.json", bytesSource(ca), bytesSource(cb), 0); err != nil {
		return nil, err
	}
	la, err := a.Layers()
	if err != nil {
		return nil, fmt.Errorf("diff %s: layers: %w", nameA, err)
	}
	lb, err := b.Layers()
	if err != nil {
		return nil, fmt.Errorf("diff %s: layers: %w", nameB, err)
	}
	for i := range max(len(la), len(lb)) {
		if c.full() {
			break
		}
		switch {
		case i >= len(lb):
			c.add(Difference{Path: layerPath(i, la[i]), Kind: KindOnlyInA, Offset: -1, Detail: "a layer only A has"})
			continue
		case i >= len(la):
			c.add(Difference{Path: layerPath(i, lb[i]), Kind: KindOnlyInB, Offset: -1, Detail: "a layer only B has"})
			continue
		}
		sa, err := layerSource(la[i])
		if err != nil {
			return nil, fmt.Errorf("diff %s: layer %d: %w", nameA, i, err)
		}
		sb, err := layerSource(lb[i])
		if err != nil {
			return nil, fmt.Errorf("diff %s: layer %d: %w", nameB, i, err)
		}
		if sa.sum == sb.sum {
			continue
		}
		p := fmt.Sprintf("layer %d %s/%s", i, short(sa.sum), short(sb.sum))
		if err := c.compare(ctx, p, "layer.tar", sa, sb, 0); err != nil {
			return nil, err
		}
	}
	if len(c.report.Differences) == 0 && !c.full() {
		ma, err := a.RawManifest()
		if err != nil {
			return nil, fmt.Errorf("diff %s: manifest: %w", nameA, err)
		}
		mb, err := b.RawManifest()
		if err != nil {
			return nil, fmt.Errorf("diff %s: manifest: %w", nameB, err)
		}
		if err := c.compare(ctx, "manifest", "manifest.json", bytesSource(ma), bytesSource(mb), 0); err != nil {
			return nil, err
		}
	}
	return c.report, nil
}

// layerSource reads a layer uncompressed; its digest is the diff ID, so
// equal layers are never read.
func layerSource(l v1.Layer) (*source, error) {
	id, err := l.DiffID()
	if err != nil {
		return nil, err
	}
	return &source{open: l.Uncompressed, size: -1, sum: id.String()}, nil
}

func layerPath(i int, l v1.Layer) string {
	if id, err := l.DiffID(); err == nil {
		return fmt.Sprintf("layer %d %s", i, short(id.String()))
	}
	return fmt.Sprintf("layer %d", i)
}

// short is "sha256:" and the first 12 hex digits.
func short(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	return d
}
