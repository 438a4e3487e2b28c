package oci

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// LayoutMarker is the file every OCI image layout directory holds.
const LayoutMarker = "oci-layout"

// OpenBuildOutput recognises a build output that is a container image,
// as other tools write them: a directory holding an OCI image layout (an
// oci-layout file: buildah and podman `--output type=oci`, docker buildx
// `-o type=oci,tar=false`, `hallmark image --out`), or a tar file holding
// one (oci-archive, docker buildx `-o type=oci`, Docker 25's docker save)
// or an older docker save archive (manifest.json). ok is false, with no
// error, for anything else. A recognised image that cannot be read (a
// layout of several manifests, a manifest that does not hash to its
// digest) is an error.
func OpenBuildOutput(ctx context.Context, path string) (img *Image, ok bool, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, false, err
	}
	if fi.IsDir() {
		if _, err := os.Stat(filepath.Join(path, LayoutMarker)); err != nil {
			return nil, false, nil
		}
		img, err := OpenLayout(path, "")
		return img, err == nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, false, nil
	}
	switch archiveKind(path) {
	case archiveLayout:
		img, err = OpenDockerArchive(ctx, path)
		return img, err == nil, err
	case archiveDockerSave:
		// manifest.json alone may be any tar's; only a loadable one is an image.
		if img, err = OpenDockerArchive(ctx, path); err != nil {
			return nil, false, nil
		}
		return img, true, nil
	}
	return nil, false, nil
}

type archive int

const (
	archiveOther archive = iota
	archiveLayout
	archiveDockerSave
)

// archiveKind tells whether file is a tar whose top level holds an OCI
// layout (oci-layout and index.json) or a docker save manifest.json. Only
// the headers are read.
func archiveKind(file string) archive {
	f, err := os.Open(file)
	if err != nil {
		return archiveOther
	}
	defer f.Close()
	tr := tar.NewReader(f)
	var layout, index, manifest bool
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return archiveOther
		}
		switch strings.TrimPrefix(filepath.ToSlash(filepath.Clean(h.Name)), "./") {
		case "manifest.json":
			manifest = true
		case LayoutMarker:
			layout = true
		case "index.json":
			index = true
		}
	}
	switch {
	case layout && index:
		return archiveLayout
	case manifest:
		return archiveDockerSave
	}
	return archiveOther
}
