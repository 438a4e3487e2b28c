package sbom

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	cpb "github.com/google/osv-scalibr/binary/proto/config_go_proto"
	"github.com/google/osv-scalibr/extractor"
	"github.com/google/osv-scalibr/extractor/filesystem"
	"github.com/google/osv-scalibr/extractor/filesystem/language/javascript/packagejson"
	"github.com/google/osv-scalibr/extractor/filesystem/language/python/wheelegg"
	scalibrfs "github.com/google/osv-scalibr/fs"
	"github.com/google/osv-scalibr/stats"
	"github.com/package-url/packageurl-go"

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
// (dpkg, apk, rpm), lockfiles, installed language packages and Go
// binaries in the image's final file system (its layers applied in order,
// whiteouts and opaque directories honoured), each component with the
// layer that introduced it.
//
// Each layer's tar is read once, several layers at a time; only the files
// an extractor needs are kept (every file bounded by WithMaxFileSize, the
// large ones in a temporary directory removed before ScanImage returns).
// A package's layer is the lowest layer from which the file that lists it
// has listed it without interruption: a dpkg status file rewritten by
// every layer still attributes each package to the layer that installed
// it.
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
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("%w: image %s: layers: %w", ErrExtract, subject.Name, err)
	}
	meta, err := layerMetadata(img, layers)
	if err != nil {
		return nil, fmt.Errorf("%w: image %s: %w", ErrExtract, subject.Name, err)
	}
	spoolDir, err := os.MkdirTemp("", "hallmark-image-")
	if err != nil {
		return nil, fmt.Errorf("%w: image %s: %w", ErrExtract, subject.Name, err)
	}
	defer os.RemoveAll(spoolDir)
	ifs, err := readLayers(ctx, layers, extractorsNeed(extractors), cfg.maxFileSize, spoolDir)
	if err != nil {
		return nil, fmt.Errorf("%w: image %s: %w", ErrExtract, subject.Name, err)
	}
	fsCfg := &filesystem.Config{
		Extractors:  extractors,
		MaxFileSize: int(cfg.maxFileSize),
		Stats:       stats.NoopCollector{},
		ScanRoots:   []*scalibrfs.ScanRoot{{FS: ifs}},
	}
	res, status, err := filesystem.Run(ctx, fsCfg)
	if err != nil {
		return nil, fmt.Errorf("%w: image %s: %w", ErrExtract, subject.Name, err)
	}
	inv := &Inventory{Subject: imageSubject(subject)}
	for _, st := range status {
		if st.Status == nil {
			continue
		}
		for _, fe := range st.Status.FileErrors {
			inv.Problems = append(inv.Problems, Problem{Path: fe.FilePath, Extractor: st.Name, Message: fe.ErrorMessage})
		}
	}

	attr := newAttributor(ifs, extractors)
	byPURL := map[string]*Component{}
	var order []string
	for _, p := range res.Packages {
		c, ok := fromScalibr(p)
		if !ok {
			continue
		}
		if i := attr.layer(ctx, p); i >= 0 && i < len(meta) {
			l := meta[i]
			c.Layer = &l
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

// layerMetadata describes each layer: its position, diff ID and the
// history entry that made it (when the history has one non-empty entry
// per layer).
func layerMetadata(img v1.Image, layers []v1.Layer) ([]bom.Layer, error) {
	var history []v1.History
	var diffIDs []v1.Hash
	if cf, err := img.ConfigFile(); err == nil && cf != nil {
		for _, h := range cf.History {
			if !h.EmptyLayer {
				history = append(history, h)
			}
		}
		diffIDs = cf.RootFS.DiffIDs
	}
	out := make([]bom.Layer, len(layers))
	for i, l := range layers {
		// The config's diff IDs: a layer's DiffID method may decompress
		// and hash the whole layer to compute it.
		var d v1.Hash
		if len(diffIDs) == len(layers) {
			d = diffIDs[i]
		} else {
			var err error
			if d, err = l.DiffID(); err != nil {
				return nil, fmt.Errorf("layer %d: diff ID: %w", i, err)
			}
		}
		out[i] = bom.Layer{Index: i, DiffID: d.String()}
		if len(history) == len(layers) {
			out[i].Command = history[i].CreatedBy
		}
	}
	return out, nil
}

// attributor finds the layer that introduced a package: walking down the
// versions of the package's file that the layers wrote, from the one in
// the final file system, as long as each still yields the package.
type attributor struct {
	fs         *imageFS
	extractors map[string]filesystem.Extractor
	// found caches, per file version, the packages it yields.
	found map[versionKey]map[pkgKey]bool
}

type versionKey struct {
	path string
	i    int
}

type pkgKey struct{ purlType, name, version string }

func newAttributor(f *imageFS, es []filesystem.Extractor) *attributor {
	a := &attributor{fs: f, extractors: map[string]filesystem.Extractor{}, found: map[versionKey]map[pkgKey]bool{}}
	for _, e := range es {
		a.extractors[e.Name()] = e
	}
	return a
}

// layer returns the index of the layer that introduced p, -1 when unknown.
func (a *attributor) layer(ctx context.Context, p *extractor.Package) int {
	loc := p.Location.PathOrEmpty()
	h := a.fs.history[loc]
	if len(h) == 0 || h[len(h)-1].removed {
		return -1
	}
	top := len(h) - 1
	layer := h[top].layer
	if len(p.Plugins) == 0 {
		return layer
	}
	ex, ok := a.extractors[p.Plugins[0]]
	if !ok {
		return layer
	}
	want := pkgKey{p.PURLType, p.Name, p.Version}
	for i := top - 1; i >= 0; i-- {
		v := h[i]
		if v.removed || v.node.data == nil || !a.yields(ctx, ex, loc, i, v.node)[want] {
			break
		}
		layer = v.layer
	}
	return layer
}

func (a *attributor) yields(ctx context.Context, ex filesystem.Extractor, loc string, i int, n *fnode) map[pkgKey]bool {
	k := versionKey{loc, i}
	if got, ok := a.found[k]; ok {
		return got
	}
	got := map[pkgKey]bool{}
	a.found[k] = got
	r, c, err := n.data.open()
	if err != nil {
		return got
	}
	defer c.Close()
	inv, _ := ex.Extract(ctx, &filesystem.ScanInput{FS: a.fs, Path: loc, Info: fileInfo{n}, Reader: r})
	for _, p := range inv.Packages {
		got[pkgKey{p.PURLType, p.Name, p.Version}] = true
	}
	return got
}

// MergePlatforms combines the inventories of the platform images of a
// multi-platform index into one about the index (subject): each package
// once per purl (Debian and Alpine purls name the architecture, so an OS
// package appears once per architecture; a Go module found on several
// platforms appears once, with the layer of the first).
func MergePlatforms(subject ImageSubject, invs ...*Inventory) *Inventory {
	out := &Inventory{Subject: imageSubject(subject)}
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

// imageSubject is the top-level component of an image's SBOM: named by
// its repository, versioned by its digest, identified by the purl spec's
// oci purl ("pkg:oci/NAME@sha256:HEX?repository_url=REPOSITORY", the
// repository_url only when the name is a registry repository).
func imageSubject(s ImageSubject) Subject {
	out := Subject{Name: s.Name, Kind: "image"}
	if s.Digest.Hex == "" {
		return out
	}
	out.Hashes = []Hash{{Algorithm: SHA256, Value: s.Digest.Hex}}
	out.Version = s.Digest.String()
	out.PURL = OCIPURL(s.Name, s.Digest)
	return out
}

// OCIPURL returns the purl of an image (the purl spec's oci type): the
// last path component of the repository, lower-cased, as the name, the
// digest as the version, and the repository as the repository_url when
// name is a registry repository ("registry.example/team/app"); a bare
// name (an OCI layout's directory) has no repository_url.
func OCIPURL(name string, d v1.Hash) string {
	base := strings.ToLower(path.Base(name))
	var qs packageurl.Qualifiers
	if strings.Contains(name, "/") {
		qs = packageurl.QualifiersFromMap(map[string]string{"repository_url": name})
	}
	return packageurl.NewPackageURL("oci", "", base, d.String(), qs, "").ToString()
}
