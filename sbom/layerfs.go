package sbom

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"slices"
	"strings"
	"time"
)

// imageFS is the reduced file system of an image: its layers applied in
// order (whiteouts and opaque directories honoured), holding every
// directory and symlink but only the content of the regular files an
// extractor needs (see layerReader). It is read-only once built and
// implements scalibr's fs.FS (fs.FS, fs.ReadDirFS, fs.StatFS).
//
// Symlinks are resolved inside the image root only: an absolute target
// is taken from the image root and ".." stops at the root, as in a
// container, so no path of the host is ever reached.
type imageFS struct {
	root *fnode
	// history is, for each path that ever held kept content, the versions
	// the layers wrote (or removed), bottom first: what layer attribution
	// re-extracts.
	history map[string][]version
}

// fnode is one entry of the merged tree.
type fnode struct {
	name    string
	mode    fs.FileMode // type bits and permissions
	size    int64
	modTime time.Time
	layer   int    // the layer that last wrote the entry
	target  string // symlink target
	data    *blob  // content of a kept regular file
	kids    map[string]*fnode
}

// version is one layer's write (or removal) of a path.
type version struct {
	layer   int
	removed bool
	node    *fnode // the written entry; its data is nil when not kept
}

// blob is the content of a kept file: in memory, or spooled to a file
// of the scan's temporary directory when large.
type blob struct {
	mem  []byte
	file string
}

func (b *blob) open() (readAtSeeker, io.Closer, error) {
	if b.file == "" {
		return bytes.NewReader(b.mem), io.NopCloser(nil), nil
	}
	f, err := os.Open(b.file)
	if err != nil {
		return nil, nil, err
	}
	return f, f, nil
}

type readAtSeeker interface {
	io.Reader
	io.ReaderAt
	io.Seeker
}

func newImageFS() *imageFS {
	return &imageFS{root: &fnode{mode: fs.ModeDir | 0o755, kids: map[string]*fnode{}}, history: map[string][]version{}}
}

// maxSymlinks bounds the symlinks followed resolving one path (as Linux's
// MAXSYMLINKS).
const maxSymlinks = 40

var errTooManyLinks = errors.New("too many levels of symbolic links")

func splitPath(p string) []string { return strings.Split(p, "/") }

// resolve walks name ('/'-separated, relative to the root) and returns
// the node it names and its real path (symlinks resolved). Symlinks in
// the parent components are always followed, the last one only when
// follow is set. With mkdir set (used for the parent of an entry being
// written), every component must be a directory: missing ones, and
// files in the way, become directories written by layer.
func (f *imageFS) resolve(name string, follow, mkdir bool, layer int) (*fnode, string, error) {
	parts := splitPath(name)
	done := []string{}
	nodes := []*fnode{f.root}
	links := 0
	for len(parts) > 0 {
		p := parts[0]
		parts = parts[1:]
		switch p {
		case "", ".":
			continue
		case "..":
			// ".." of the root is the root.
			if len(done) > 0 {
				done, nodes = done[:len(done)-1], nodes[:len(nodes)-1]
			}
			continue
		}
		cur := nodes[len(nodes)-1]
		next, ok := cur.kids[p]
		last := len(parts) == 0
		if ok && next.mode&fs.ModeSymlink != 0 && (mkdir || !last || follow) {
			links++
			if links > maxSymlinks {
				return nil, "", &fs.PathError{Op: "open", Path: name, Err: errTooManyLinks}
			}
			if strings.HasPrefix(next.target, "/") {
				done, nodes = done[:0], nodes[:1]
			}
			parts = append(splitPath(next.target), parts...)
			continue
		}
		if !ok || ((mkdir || !last) && !next.mode.IsDir()) {
			if !mkdir {
				return nil, "", &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
			}
			if ok {
				f.remove(strings.Join(append(done, p), "/"), next, layer)
			}
			next = &fnode{name: p, mode: fs.ModeDir | 0o755, layer: layer, kids: map[string]*fnode{}}
			cur.kids[p] = next
		}
		done, nodes = append(done, p), append(nodes, next)
	}
	return nodes[len(nodes)-1], strings.Join(done, "/"), nil
}

// remove records the removal by layer of the entry n at real path p and
// of everything under it, for the paths that have a history.
func (f *imageFS) remove(p string, n *fnode, layer int) {
	if h, ok := f.history[p]; ok && !h[len(h)-1].removed {
		f.history[p] = append(h, version{layer: layer, removed: true})
	}
	for name, k := range n.kids {
		f.remove(p+"/"+name, k, layer)
	}
}

// An op is one entry of a layer's tar, as applied to the tree.
type op struct {
	kind opKind
	path string // cleaned, relative to the root
	node *fnode // opEntry: the entry (kids nil for a directory)
	// link is a hard link's target (opHardlink).
	link string
}

type opKind uint8

const (
	opEntry    opKind = iota
	opWhiteout        // path is removed from the lower layers
	opOpaque          // path's contents in the lower layers are hidden
	opHardlink        // path is a hard link to link
)

// apply applies one layer's ops: its whiteouts first (they hide the
// lower layers only), then its entries in tar order.
func (f *imageFS) apply(layer int, ops []op) {
	for _, o := range ops {
		switch o.kind {
		case opWhiteout:
			dir, real, err := f.resolve(path.Dir(o.path), true, false, layer)
			if err != nil || !dir.mode.IsDir() {
				continue
			}
			base := path.Base(o.path)
			if old, ok := dir.kids[base]; ok {
				f.remove(joinRel(real, base), old, layer)
				delete(dir.kids, base)
			}
		case opOpaque:
			dir, real, err := f.resolve(o.path, true, false, layer)
			if err != nil || !dir.mode.IsDir() {
				continue
			}
			for name, k := range dir.kids {
				f.remove(joinRel(real, name), k, layer)
			}
			dir.kids = map[string]*fnode{}
		}
	}
	for _, o := range ops {
		if o.kind != opEntry && o.kind != opHardlink {
			continue
		}
		dir, dirPath, err := f.resolve(path.Dir(o.path), true, true, layer)
		if err != nil {
			continue
		}
		base := path.Base(o.path)
		real := joinRel(dirPath, base)
		n := o.node
		if o.kind == opHardlink {
			// A link to a file no extractor needs (not in the tree) is
			// such a file too.
			n = &fnode{name: base, mode: 0o644, layer: layer}
			if t, _, err := f.resolve(o.link, false, false, layer); err == nil && t.mode.IsRegular() {
				c := *t
				c.name, c.layer = base, layer
				n = &c
			}
		}
		old, had := dir.kids[base]
		if had && old.mode.IsDir() && n.mode.IsDir() {
			// A directory entry over a directory changes its metadata only.
			old.mode, old.modTime, old.layer = n.mode, n.modTime, layer
			continue
		}
		if had && (n.data == nil || old.mode.IsDir()) {
			// (A kept file over a file is its next version, not a removal.)
			f.remove(real, old, layer)
		}
		if n.mode.IsRegular() && n.data == nil {
			// A file no extractor needs: it hides what was there, and
			// is not kept.
			delete(dir.kids, base)
			continue
		}
		if n.mode.IsDir() {
			n.kids = map[string]*fnode{}
		}
		dir.kids[base] = n
		if n.data != nil {
			f.history[real] = append(f.history[real], version{layer: layer, node: n})
		}
	}
}

func joinRel(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// cleanEntryName turns a tar entry name into a path relative to the
// root; ok is false for the root itself and for names that leave it.
func cleanEntryName(name string) (string, bool) {
	p := path.Clean("/" + strings.TrimPrefix(name, "./"))
	p = strings.TrimPrefix(p, "/")
	if p == "" || p == "." || !fs.ValidPath(p) {
		return "", false
	}
	return p, true
}

// The fs.FS interface, as scalibr's walk and extractors use it.

func (f *imageFS) lookup(op, name string) (*fnode, error) {
	if name != "." && !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	if name == "." {
		return f.root, nil
	}
	n, _, err := f.resolve(name, true, false, 0)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &fs.PathError{Op: op, Path: name, Err: err}
	}
	return n, nil
}

func (f *imageFS) Open(name string) (fs.File, error) {
	n, err := f.lookup("open", name)
	if err != nil {
		return nil, err
	}
	return n.open(name)
}

func (f *imageFS) Stat(name string) (fs.FileInfo, error) {
	n, err := f.lookup("stat", name)
	if err != nil {
		return nil, err
	}
	return fileInfo{n}, nil
}

func (f *imageFS) ReadDir(name string) ([]fs.DirEntry, error) {
	n, err := f.lookup("readdir", name)
	if err != nil {
		return nil, err
	}
	if !n.mode.IsDir() {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
	}
	return n.entries(), nil
}

func (n *fnode) entries() []fs.DirEntry {
	names := slices.Sorted(maps.Keys(n.kids))
	out := make([]fs.DirEntry, len(names))
	for i, k := range names {
		out[i] = fs.FileInfoToDirEntry(fileInfo{n.kids[k]})
	}
	return out
}

func (n *fnode) open(name string) (fs.File, error) {
	switch {
	case n.mode.IsDir():
		return &dirFile{n: n, entries: n.entries()}, nil
	case n.data == nil:
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	r, c, err := n.data.open()
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return &file{readAtSeeker: r, Closer: c, n: n}, nil
}

type fileInfo struct{ n *fnode }

func (i fileInfo) Name() string       { return i.n.name }
func (i fileInfo) Size() int64        { return i.n.size }
func (i fileInfo) Mode() fs.FileMode  { return i.n.mode }
func (i fileInfo) ModTime() time.Time { return i.n.modTime }
func (i fileInfo) IsDir() bool        { return i.n.mode.IsDir() }
func (i fileInfo) Sys() any           { return nil }

type file struct {
	readAtSeeker
	io.Closer
	n *fnode
}

func (f *file) Stat() (fs.FileInfo, error) { return fileInfo{f.n}, nil }

type dirFile struct {
	n       *fnode
	entries []fs.DirEntry
}

func (d *dirFile) Stat() (fs.FileInfo, error) { return fileInfo{d.n}, nil }
func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.n.name, Err: errors.New("is a directory")}
}
func (d *dirFile) Close() error { return nil }
func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	if n <= 0 {
		out := d.entries
		d.entries = nil
		return out, nil
	}
	if len(d.entries) == 0 {
		return nil, io.EOF
	}
	k := min(n, len(d.entries))
	out := d.entries[:k]
	d.entries = d.entries[k:]
	return out, nil
}
