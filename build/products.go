package build

import (
	"context"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hallmark-dev/hallmark/digest"
)

// Product is a file the build produced, or a container image.
type Product struct {
	// Name is the slash path relative to the source root.
	Name string `json:"name"`
	// Digest is the file's; for an image, its manifest digest.
	Digest digest.Set `json:"digest"`
	Size   int64      `json:"size"`
	// Image is set when the product is a container image: an OCI layout
	// directory or an image archive.
	Image *ImageProduct `json:"image,omitempty"`
}

// fileState is what a snapshot remembers of a file to notice a change.
type fileState struct {
	size  int64
	mtime time.Time
	mode  fs.FileMode
	ino   uint64
}

// snapshot records the state of every file under the output directories
// (slash paths relative to src).
func snapshot(src string, dirs []string) (map[string]fileState, error) {
	snap := map[string]fileState{}
	for _, d := range dirs {
		err := filepath.WalkDir(filepath.Join(src, d), func(p string, de fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if de.IsDir() {
				return nil
			}
			fi, err := de.Info()
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(src, p)
			if err != nil {
				return err
			}
			snap[filepath.ToSlash(rel)] = stateOf(fi)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("snapshot output directory %s: %w", d, err)
		}
	}
	return snap, nil
}

// products hashes the files matched by the globs and the files created or
// changed under the output directories since the snapshot. Symbolic links
// are not products: they are reported in skipped.
//
// It runs after every build process is gone. Output directories replaced
// by symbolic links and glob matches that leave the source tree fail with
// ErrOutputEscape; the outputs are first made safe to keep on the host
// (sanitizeOutputs), and each change is returned in fixes.
func products(ctx context.Context, src string, globs, outDirs []string, before map[string]fileState) (out []Product, skipped []string, fixes []OutputFix, err error) {
	if err := checkOutputDirs(src, outDirs); err != nil {
		return nil, nil, nil, err
	}
	if fixes, err = sanitizeOutputs(ctx, src, outDirs); err != nil {
		return nil, nil, nil, err
	}
	root, err := os.OpenRoot(src)
	if err != nil {
		return nil, nil, nil, err
	}
	defer root.Close()
	found := map[string]digest.Entry{}
	addTree := func(dir string) error {
		l, err := digest.Tree(ctx, filepath.Join(src, dir), digest.WithoutGitignore())
		if err != nil {
			return err
		}
		for _, e := range l.Entries {
			found[pathJoin(dir, e.Path)] = e
		}
		return nil
	}
	for _, g := range globs {
		if filepath.IsAbs(g) || slices.Contains(strings.Split(filepath.ToSlash(g), "/"), "..") {
			return nil, nil, nil, fmt.Errorf("%w: product glob %q must be relative to the source root", ErrSpec, g)
		}
		matches, err := filepath.Glob(filepath.Join(src, g))
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%w: product glob %q: %w", ErrSpec, g, err)
		}
		if len(matches) == 0 {
			return nil, nil, nil, fmt.Errorf("%w: product glob %q matched nothing", ErrNoProducts, g)
		}
		for _, m := range matches {
			rel, err := filepath.Rel(src, m)
			if err != nil {
				return nil, nil, nil, err
			}
			rel = filepath.ToSlash(rel)
			e, isDir, fix, err := globProduct(root, rel)
			if err != nil {
				return nil, nil, nil, err
			}
			if fix != "" {
				fixes = append(fixes, OutputFix{Path: rel, Action: fix})
			}
			switch {
			case isDir:
				if err := addTree(rel); err != nil {
					return nil, nil, nil, err
				}
			case e == nil:
				skipped = append(skipped, rel)
			default:
				found[rel] = *e
			}
		}
	}
	for _, d := range outDirs {
		l, err := digest.Tree(ctx, filepath.Join(src, d), digest.WithoutGitignore())
		if err != nil {
			return nil, nil, nil, err
		}
		for _, e := range l.Entries {
			rel := pathJoin(d, e.Path)
			if _, ok := found[rel]; ok {
				continue
			}
			fi, err := os.Lstat(filepath.Join(src, filepath.FromSlash(rel)))
			if err != nil {
				return nil, nil, nil, err
			}
			if old, ok := before[rel]; ok && old == stateOf(fi) {
				continue
			}
			found[rel] = e
		}
	}
	for _, rel := range slices.Sorted(maps.Keys(found)) {
		e := found[rel]
		if e.Kind != digest.KindFile {
			skipped = append(skipped, rel)
			continue
		}
		out = append(out, Product{Name: rel, Digest: e.Digest, Size: e.Size})
	}
	return out, skipped, fixes, nil
}

func pathJoin(dir, rel string) string {
	if dir == "." || dir == "" {
		return rel
	}
	return strings.TrimSuffix(filepath.ToSlash(dir), "/") + "/" + rel
}
