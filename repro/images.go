package repro

import (
	"context"
	"fmt"
	"maps"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hallmark-dev/hallmark/oci"
)

// imageOutputs finds the container images among a build's files (slash
// path -> "sha256:<hex>"), as `hallmark build` does: the files of an OCI
// image layout directory are replaced by the directory, and a *.tar image
// archive keeps its path; both take the image's manifest digest, so that
// two builds of the same image compare equal even when the archive's
// bytes (tar headers, member order) differ. It returns the new map and
// the paths that are images.
func imageOutputs(ctx context.Context, dir string, files map[string]string) (map[string]string, map[string]bool, error) {
	var layouts []string
	for rel := range files {
		if path.Base(rel) == oci.LayoutMarker && path.Dir(rel) != "." {
			layouts = append(layouts, path.Dir(rel))
		}
	}
	slices.Sort(layouts)
	out := make(map[string]string, len(files))
	images := map[string]bool{}
	for _, rel := range slices.Sorted(maps.Keys(files)) {
		if slices.ContainsFunc(layouts, func(d string) bool { return strings.HasPrefix(rel, d+"/") }) {
			continue
		}
		out[rel] = files[rel]
		if strings.HasSuffix(rel, ".tar") {
			if d, ok, err := manifestDigest(ctx, dir, rel); err != nil {
				return nil, nil, err
			} else if ok {
				out[rel], images[rel] = d, true
			}
		}
	}
	for _, l := range layouts {
		d, ok, err := manifestDigest(ctx, dir, l)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			out[l], images[l] = d, true
		}
	}
	return out, images, nil
}

func manifestDigest(ctx context.Context, dir, rel string) (string, bool, error) {
	img, ok, err := oci.OpenBuildOutput(ctx, filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil {
		return "", false, fmt.Errorf("image %s: %w", rel, err)
	}
	if !ok {
		return "", false, nil
	}
	return img.Digest.String(), true, nil
}
