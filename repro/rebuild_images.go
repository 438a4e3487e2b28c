package repro

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/hallmark-dev/hallmark/build"
	"github.com/hallmark-dev/hallmark/digest"
)

// RebuiltImage is a rebuilt product that is a container image: an OCI
// layout directory or an image archive that build.Run recognised.
type RebuiltImage struct {
	// Subject is the provenance subject it answers: the image's repository
	// name (an image's subject is named by its repository, not its path).
	Subject string
	// Path is the slash path of the rebuilt layout or archive, relative to
	// the source root.
	Path string
	// Ref names the rebuilt image where it was kept, the way `hallmark
	// diff` reads it: oci:DIR or docker-archive:FILE.
	Ref string
	// Digest is its manifest digest (sha256 hex).
	Digest string
}

// rebuiltProducts digests the rebuilt products named by the subjects. A
// subject that names an image the build wrote (build.Run's product
// detection: a layout or an archive) gets the image's manifest digest, as
// `hallmark build` recorded it; the others are files, digested as they are.
// When one image was written twice (a layout and an archive) with different
// manifests, the one that differs from the expected digest counts.
func rebuiltProducts(ctx context.Context, src string, names []string, expected map[string]string, prods []build.Product) (map[string]string, []RebuiltImage, error) {
	var images []RebuiltImage
	for _, p := range prods {
		if p.Image != nil && slices.Contains(names, p.Image.Name) {
			images = append(images, RebuiltImage{Subject: p.Image.Name, Path: p.Name, Digest: p.Digest[digest.SHA256]})
		}
	}
	isImage := func(n string) bool {
		return slices.ContainsFunc(images, func(im RebuiltImage) bool { return im.Subject == n })
	}
	var files []string
	for _, n := range names {
		if !isImage(n) {
			files = append(files, n)
		}
	}
	rebuilt, err := digest.Files(ctx, src, files)
	if err != nil {
		return nil, nil, err
	}
	for _, im := range images {
		if d, ok := rebuilt[im.Subject]; !ok || d == expected[im.Subject] {
			rebuilt[im.Subject] = im.Digest
		}
	}
	return rebuilt, images, nil
}

// keepProducts copies the named products under src to the same names
// under dst: files, and directories (an OCI layout) file by file. Symbolic
// links are not followed, nor copied; nothing is read outside src.
func keepProducts(src, dst string, names []string) error {
	root, err := os.OpenRoot(src)
	if err != nil {
		return err
	}
	defer root.Close()
	for _, n := range names {
		err := fs.WalkDir(root.FS(), filepath.ToSlash(n), func(p string, de fs.DirEntry, err error) error {
			if err != nil || !de.Type().IsRegular() {
				return err
			}
			return keepFile(root, p, filepath.Join(dst, filepath.FromSlash(p)))
		})
		if err != nil {
			return fmt.Errorf("keep rebuilt product %s: %w", n, err)
		}
	}
	return nil
}

func keepFile(root *os.Root, name, to string) error {
	in, err := root.Open(filepath.FromSlash(name))
	if err != nil {
		return err
	}
	defer in.Close()
	if fi, err := in.Stat(); err != nil || !fi.Mode().IsRegular() {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
