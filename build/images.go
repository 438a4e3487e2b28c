package build

import (
	"context"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/oci"
)

// ImageProduct says that a product is a container image, and names it.
type ImageProduct struct {
	// Name is the image's name as every Hallmark command names it: the
	// repository of the layout's or archive's reference, else the
	// directory or file name.
	Name string `json:"name"`
	// MediaType is the manifest's (or index's) media type.
	MediaType string `json:"mediaType"`
}

// imageProducts finds the container images among the products, as other
// tools write them (oci.OpenBuildOutput): an OCI image layout directory
// becomes one product, the directory, instead of its blob files, and an
// image archive (a product named *.tar) keeps its path. Either is digested
// by its manifest digest (the index digest for a multi-platform image), so
// that the provenance's subject is the image as cosign and SLSA name it,
// not a file that happens to carry it.
func imageProducts(ctx context.Context, src string, prods []Product) ([]Product, error) {
	var layouts []string
	for _, p := range prods {
		if path.Base(p.Name) == oci.LayoutMarker && path.Dir(p.Name) != "." {
			layouts = append(layouts, path.Dir(p.Name))
		}
	}
	out := make([]Product, 0, len(prods))
	inLayout := func(name string) bool {
		return slices.ContainsFunc(layouts, func(d string) bool { return strings.HasPrefix(name, d+"/") })
	}
	for _, p := range prods {
		if inLayout(p.Name) {
			continue
		}
		if strings.HasSuffix(p.Name, ".tar") {
			ip, ok, err := imageProduct(ctx, src, p.Name)
			if err != nil {
				return nil, err
			}
			if ok {
				ip.Size = p.Size
				p = ip
			}
		}
		out = append(out, p)
	}
	for _, d := range layouts {
		ip, ok, err := imageProduct(ctx, src, d)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%w: %s holds an %s file but is not an OCI image layout", ErrNoProducts, d, oci.LayoutMarker)
		}
		out = append(out, ip)
	}
	slices.SortFunc(out, func(a, b Product) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func imageProduct(ctx context.Context, src, rel string) (Product, bool, error) {
	img, ok, err := oci.OpenBuildOutput(ctx, filepath.Join(src, filepath.FromSlash(rel)))
	if err != nil {
		return Product{}, false, fmt.Errorf("image product %s: %w", rel, err)
	}
	if !ok {
		return Product{}, false, nil
	}
	return Product{
		Name:   rel,
		Digest: digest.Set{img.Digest.Algorithm: img.Digest.Hex},
		Image:  &ImageProduct{Name: img.Name, MediaType: string(img.MediaType)},
	}, true, nil
}
