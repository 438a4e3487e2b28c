package sbom

import (
	"context"
	"fmt"
	"log/slog"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	scalibrimage "github.com/google/osv-scalibr/artifact/image/layerscanning/image"
	"github.com/google/osv-scalibr/artifact/image/layerscanning/trace"
	cpb "github.com/google/osv-scalibr/binary/proto/config_go_proto"
	"github.com/google/osv-scalibr/extractor/filesystem"
	"github.com/google/osv-scalibr/extractor/filesystem/language/javascript/packagejson"
	"github.com/google/osv-scalibr/extractor/filesystem/language/python/wheelegg"
	scalibrfs "github.com/google/osv-scalibr/fs"
	"github.com/google/osv-scalibr/inventory"
	"github.com/google/osv-scalibr/stats"

	"github.com/hallmark-dev/hallmark/sbom/internal/bom"
)

// installedPackageExtractors read the metadata of installed language
// packages (Python's *.dist-info and *.egg-info, npm's
// node_modules/*/package.json). An image carries what was installed, often
// without the lockfile that chose it, so images are scanned for these too;
// a source tree is not, where the lockfiles are the record.
var installedPackageExtractors = []func(*cpb.PluginConfig) (filesystem.Extractor, error){wheelegg.New, packagejson.New}

// ImageSubject names the image an inventory is about.
type ImageSubject struct {
	// Name is the image's name (its repository).
	Name string
	// Digest is the manifest (or index) digest: the subject.
	Digest v1.Hash
}

// ScanImage inventories the packages of a container image: OS packages
// (dpkg, apk), lockfiles and Go binaries in the image's final file system
// (its layers applied in order, whiteouts honoured), each component with
// the layer that introduced it. Layers are unpacked into a temporary
// directory, every file bounded by WithMaxFileSize, and removed before
// ScanImage returns.
func ScanImage(ctx context.Context, img v1.Image, subject ImageSubject, opts ...Option) (*Inventory, error) {
	cfg := config{logger: slog.New(slog.DiscardHandler), maxFileSize: DefaultMaxFileSize, maxLockSize: DefaultMaxLockfileSize}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	extractors, err := newExtractors(cfg.maxFileSize, installedPackageExtractors...)
	if err != nil {
		return nil, err
	}
	icfg := scalibrimage.DefaultConfig()
	icfg.MaxFileBytes = cfg.maxFileSize
	simg, err := scalibrimage.FromV1Image(img, icfg)
	if err != nil {
		return nil, fmt.Errorf("%w: image %s: %w", ErrExtract, subject.Name, err)
	}
	defer simg.CleanUp()
	chain, err := simg.ChainLayers()
	if err != nil {
		return nil, fmt.Errorf("%w: image %s: layers: %w", ErrExtract, subject.Name, err)
	}
	fsCfg := &filesystem.Config{
		Extractors:  extractors,
		MaxFileSize: int(cfg.maxFileSize),
		Stats:       stats.NoopCollector{},
		ScanRoots:   []*scalibrfs.ScanRoot{{FS: simg.FS()}},
	}
	res, status, err := filesystem.Run(ctx, fsCfg)
	if err != nil {
		return nil, fmt.Errorf("%w: image %s: %w", ErrExtract, subject.Name, err)
	}
	inv := &Inventory{Subject: Subject{Name: subject.Name, Kind: "image"}}
	if subject.Digest.Hex != "" {
		inv.Subject.Hashes = []Hash{{Algorithm: SHA256, Value: subject.Digest.Hex}}
	}
	for _, st := range status {
		if st.Status == nil {
			continue
		}
		for _, fe := range st.Status.FileErrors {
			inv.Problems = append(inv.Problems, Problem{Path: fe.FilePath, Extractor: st.Name, Message: fe.ErrorMessage})
		}
	}
	// Which layer introduced each package: scalibr re-extracts the
	// package's file in the lower layers and finds where it first appears.
	traced := &inventory.Inventory{Packages: res.Packages}
	trace.PopulateLayerDetails(ctx, traced, chain, extractors, &filesystem.Config{MaxFileSize: int(cfg.maxFileSize), Stats: stats.NoopCollector{}})

	byPURL := map[string]*Component{}
	var order []string
	for _, p := range res.Packages {
		c, ok := fromScalibr(p)
		if !ok {
			continue
		}
		if lm := p.LayerMetadata; lm != nil {
			c.Layer = &bom.Layer{Index: lm.Index, DiffID: lm.DiffID.String(), Command: lm.Command}
		}
		if prev, dup := byPURL[c.PURL]; dup {
			bom.Merge(prev, c)
			if prev.Layer == nil || (c.Layer != nil && c.Layer.Index < prev.Layer.Index) {
				prev.Layer = c.Layer
			}
			continue
		}
		byPURL[c.PURL] = &c
		order = append(order, c.PURL)
	}
	for _, k := range order {
		c := byPURL[k]
		c.DependsOn = nil
		bom.Normalize(c)
		inv.Components = append(inv.Components, *c)
	}
	bom.SortComponents(inv.Components)
	return inv, nil
}

// MergePlatforms combines the inventories of the platform images of a
// multi-platform index into one about the index (subject): each package
// once per purl (Debian and Alpine purls name the architecture, so an OS
// package appears once per architecture; a Go module found on several
// platforms appears once, with the layer of the first).
func MergePlatforms(subject ImageSubject, invs ...*Inventory) *Inventory {
	out := &Inventory{Subject: Subject{Name: subject.Name, Kind: "image"}}
	if subject.Digest.Hex != "" {
		out.Subject.Hashes = []Hash{{Algorithm: SHA256, Value: subject.Digest.Hex}}
	}
	byPURL := map[string]int{}
	for _, inv := range invs {
		out.Problems = append(out.Problems, inv.Problems...)
		for _, c := range inv.Components {
			if k, dup := byPURL[c.PURL]; dup {
				bom.Merge(&out.Components[k], c)
				bom.Normalize(&out.Components[k])
				continue
			}
			byPURL[c.PURL] = len(out.Components)
			out.Components = append(out.Components, c)
		}
	}
	bom.SortComponents(out.Components)
	return out
}
