package sbom

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"runtime"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/osv-scalibr/extractor/filesystem"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// readLayers reads every layer's tar once, several layers at a time, and
// applies them in order to a reduced file system that keeps the content
// of only the files need accepts (at most maxFileSize bytes each; large
// ones spooled to files under spoolDir).
func readLayers(ctx context.Context, layers []v1.Layer, need needFunc, maxFileSize int64, spoolDir string) (*imageFS, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		ops []op
		err error
	}
	results := make([]chan result, len(layers))
	for i := range results {
		results[i] = make(chan result, 1)
	}
	var wg sync.WaitGroup
	defer wg.Wait() // no reader writes to spoolDir after return
	// Layers start in order, at most GOMAXPROCS at a time (decompression
	// is serial within a layer), and are merged in order as they finish.
	sem := make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))
	wg.Go(func() {
		for i, l := range layers {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				for _, ch := range results[i:] {
					ch <- result{err: ctx.Err()}
				}
				return
			}
			wg.Go(func() {
				defer func() { <-sem }()
				ops, err := readLayer(ctx, l, need, maxFileSize, spoolDir)
				results[i] <- result{ops, err}
			})
		}
	})
	f := newImageFS()
	for i := range layers {
		r := <-results[i]
		if r.err != nil {
			cancel()
			return nil, fmt.Errorf("layer %d: %w", i, r.err)
		}
		f.apply(i, r.ops)
	}
	return f, nil
}

// needFunc says whether the content of a regular file is needed.
type needFunc func(p string, info fs.FileInfo) bool

// extractorsNeed accepts the files some extractor requires, by path and
// tar header, and the files extractors open next to them: the
// os-release file (the distribution of dpkg, apk and rpm packages),
// go.sum next to go.mod, npm-shrinkwrap.json next to package-lock.json.
func extractorsNeed(es []filesystem.Extractor) needFunc {
	return func(p string, info fs.FileInfo) bool {
		switch p {
		case "etc/os-release", "usr/lib/os-release":
			return true
		}
		switch path.Base(p) {
		case "go.sum", "npm-shrinkwrap.json":
			return true
		}
		api := fileAPI{path: p, info: info}
		for _, e := range es {
			if e.FileRequired(api) {
				return true
			}
		}
		return false
	}
}

type fileAPI struct {
	path string
	info fs.FileInfo
}

func (a fileAPI) Path() string               { return a.path }
func (a fileAPI) Stat() (fs.FileInfo, error) { return a.info, nil }

// readLayer reads one layer's tar into ops, keeping the content of the
// regular files need accepts.
func readLayer(ctx context.Context, l v1.Layer, need needFunc, maxFileSize int64, spoolDir string) ([]op, error) {
	rc, err := uncompressed(l)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	var ops []op
	files := map[string]layerFile{} // this layer's regular files, for hard links
	// Hard links whose own name is needed though their target's content
	// was not kept (a library's file linked under a name an extractor
	// asks for), by the ordinal of the tar entry holding the content:
	// read in a second pass over the layer, which only such layers pay.
	wanted := map[int][]*fnode{}
	for entryNo := 0; ; entryNo++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			if len(wanted) > 0 {
				if err := readLinked(ctx, l, wanted, spoolDir); err != nil {
					return nil, fmt.Errorf("second pass for hard links: %w", err)
				}
			}
			return ops, nil
		}
		if err != nil {
			return nil, err
		}
		p, ok := cleanEntryName(h.Name)
		if !ok {
			continue
		}
		dir, base := path.Dir(p), path.Base(p)
		if base == ".wh..wh..opq" {
			ops = append(ops, op{kind: opOpaque, path: dir})
			continue
		}
		if w, ok := strings.CutPrefix(base, ".wh."); ok {
			ops = append(ops, op{kind: opWhiteout, path: path.Join(dir, w)})
			continue
		}
		info := h.FileInfo()
		n := &fnode{name: base, mode: info.Mode(), size: h.Size, modTime: h.ModTime}
		switch h.Typeflag {
		case tar.TypeReg:
			if h.Size <= maxFileSize && need(p, fileInfo{n}) {
				if n.data, err = spool(tr, h.Size, spoolDir); err != nil {
					return nil, fmt.Errorf("%s: %w", p, err)
				}
			}
			files[p] = layerFile{n, entryNo}
		case tar.TypeSymlink:
			n.target = h.Linkname
		case tar.TypeLink:
			t, ok := cleanEntryName(h.Linkname)
			if !ok {
				continue
			}
			tf, ok := files[t]
			if !ok {
				// A link to a file of a lower layer.
				ops = append(ops, op{kind: opHardlink, path: p, link: t})
				continue
			}
			c := *tf.node
			c.name = base
			n = &c
			files[p] = layerFile{n, tf.entry}
			if n.data == nil && n.size <= maxFileSize && need(p, fileInfo{n}) {
				wanted[tf.entry] = append(wanted[tf.entry], n)
			}
		case tar.TypeDir:
		default:
			// Devices and FIFOs: not regular, never read.
			n.size = 0
		}
		ops = append(ops, op{kind: opEntry, path: p, node: n})
	}
}

// layerFile is a regular file of the layer being read: its node and the
// ordinal of the tar entry that holds its content (a hard link's is its
// target's).
type layerFile struct {
	node  *fnode
	entry int
}

// readLinked reads layer l again and gives each node in wanted (keyed by
// tar entry ordinal) the content of that entry.
func readLinked(ctx context.Context, l v1.Layer, wanted map[int][]*fnode, spoolDir string) error {
	rc, err := uncompressed(l)
	if err != nil {
		return err
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for entryNo := 0; len(wanted) > 0; entryNo++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if err != nil {
			return fmt.Errorf("layer changed between passes: %w", err)
		}
		nodes, ok := wanted[entryNo]
		if !ok {
			continue
		}
		delete(wanted, entryNo)
		if h.Typeflag != tar.TypeReg || h.Size != nodes[0].size {
			return fmt.Errorf("layer changed between passes: entry %d is %q", entryNo, h.Name)
		}
		b, err := spool(tr, h.Size, spoolDir)
		if err != nil {
			return fmt.Errorf("%s: %w", h.Name, err)
		}
		for _, n := range nodes {
			n.data = b
		}
	}
	return nil
}

// spoolAbove is the size above which kept content goes to a file rather
// than memory: Go binaries, and the archives and shared libraries the Go
// binary extractor asks for too, would otherwise hold hundreds of MB.
const spoolAbove = 64 << 10

func spool(r io.Reader, size int64, dir string) (*blob, error) {
	if size <= spoolAbove {
		b := make([]byte, size)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		return &blob{mem: b}, nil
	}
	f, err := os.CreateTemp(dir, "file-")
	if err != nil {
		return nil, err
	}
	_, err = io.Copy(f, io.LimitReader(r, size))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	return &blob{file: f.Name()}, nil
}

// uncompressed opens a layer's tar. Layers stored compressed (gzip, zstd:
// registries, OCI layouts) are read as stored and decompressed with
// klauspost/compress, about twice as fast as compress/gzip, which
// go-containerregistry's Uncompressed uses; decompression is most of the
// time an image scan takes. Other layers (a docker save archive's
// uncompressed ones) are read through Uncompressed.
func uncompressed(l v1.Layer) (io.ReadCloser, error) {
	mt, err := l.MediaType()
	if err != nil {
		return l.Uncompressed()
	}
	switch mt {
	case types.OCILayer, types.DockerLayer, types.OCIRestrictedLayer, types.DockerForeignLayer, types.OCILayerZStd:
	default:
		return l.Uncompressed()
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(rc, 1<<16)
	magic, err := br.Peek(4)
	if err != nil && !errors.Is(err, io.EOF) {
		rc.Close()
		return nil, err
	}
	var r io.Reader = br
	var closeDec func()
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			rc.Close()
			return nil, err
		}
		r, closeDec = zr, func() { zr.Close() }
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1))
		if err != nil {
			rc.Close()
			return nil, err
		}
		r, closeDec = zr, zr.Close
	}
	return &decompressed{Reader: r, compressed: rc, closeDec: closeDec}, nil
}

type decompressed struct {
	io.Reader
	compressed io.Closer
	closeDec   func()
}

func (d *decompressed) Close() error {
	if d.closeDec != nil {
		d.closeDec()
	}
	return d.compressed.Close()
}
