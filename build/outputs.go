package build

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/internal/limits"
)

// ErrOutputEscape reports an output directory or product path that
// resolves outside the source tree through a symbolic link the build
// created: hashing it would record host files as products.
var ErrOutputEscape = errors.New("build: output leaves the source tree")

// specialBits are the mode bits a product never keeps: a build (run as
// root, or as root inside its user namespace) must not be able to leave a
// setuid or setgid executable on the host.
const specialBits = fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky

// OutputFix is one change Hallmark made to a build's outputs before hashing
// them.
type OutputFix struct {
	// Path is the slash path relative to the source root.
	Path string `json:"path"`
	// Action is "cleared setuid", "cleared setgid,sticky", "removed FIFO", ...
	Action string `json:"action"`
}

func (f OutputFix) String() string { return f.Path + ": " + f.Action }

// checkOutputDirs refuses output directories that the build replaced by
// (or moved under) a symbolic link: src is already free of links, so each
// directory's resolved path must be its own path.
func checkOutputDirs(src string, dirs []string) error {
	for _, d := range dirs {
		p := filepath.Join(src, filepath.FromSlash(d))
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			return fmt.Errorf("output directory %s: %w", d, err)
		}
		if real != p {
			return fmt.Errorf("%w: output directory %s resolves to %s", ErrOutputEscape, d, real)
		}
	}
	return nil
}

// sanitizeOutputs walks the output directories after the build (whose
// processes are all gone by then) and makes what is left safe to keep on
// the host: setuid, setgid and sticky bits are cleared from files and
// directories, and FIFOs, sockets and device nodes are removed (they are
// never products, and a FIFO would hang whoever opens it). Symbolic links
// are left alone and never followed. Every change is returned.
func sanitizeOutputs(ctx context.Context, src string, dirs []string) ([]OutputFix, error) {
	var fixes []OutputFix
	for _, d := range dirs {
		root, err := limits.OpenRoot(filepath.Join(src, filepath.FromSlash(d)))
		if err != nil {
			return nil, fmt.Errorf("output directory %s: %w", d, err)
		}
		err = fs.WalkDir(root.FS(), ".", func(p string, de fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			fix, err := sanitizeEntry(root, p, de)
			if err != nil {
				return err
			}
			if fix != "" {
				fixes = append(fixes, OutputFix{Path: pathJoin(d, p), Action: fix})
			}
			return nil
		})
		root.Close()
		if err != nil {
			return nil, fmt.Errorf("output directory %s: %w", d, err)
		}
	}
	return fixes, nil
}

// sanitizeEntry fixes one entry of an output tree (see sanitizeOutputs).
func sanitizeEntry(root *os.Root, p string, de fs.DirEntry) (string, error) {
	t := de.Type()
	switch {
	case t&fs.ModeSymlink != 0:
		return "", nil
	case t&(fs.ModeNamedPipe|fs.ModeSocket|fs.ModeDevice|fs.ModeCharDevice|fs.ModeIrregular) != 0:
		if err := root.Remove(p); err != nil {
			return "", fmt.Errorf("remove %s: %w", p, err)
		}
		return "removed " + limits.TypeName(t), nil
	}
	fi, err := root.Lstat(p)
	if err != nil {
		return "", err
	}
	bits := fi.Mode() & specialBits
	if bits == 0 {
		return "", nil
	}
	// Lstat said file or directory and no build process is left to swap
	// it for a link, so Chmod (which follows links inside the root) acts
	// on this entry.
	if err := root.Chmod(p, fi.Mode().Perm()); err != nil {
		return "", fmt.Errorf("clear %s bits of %s: %w", specialNames(bits), p, err)
	}
	return "cleared " + specialNames(bits), nil
}

func specialNames(m fs.FileMode) string {
	var n []string
	if m&fs.ModeSetuid != 0 {
		n = append(n, "setuid")
	}
	if m&fs.ModeSetgid != 0 {
		n = append(n, "setgid")
	}
	if m&fs.ModeSticky != 0 {
		n = append(n, "sticky")
	}
	return strings.Join(n, ",")
}

// globProduct examines a path matched by a product glob through a root at
// the source tree, so that a symbolic link the build planted in the path
// cannot make a host file a product. A regular file has its setuid, setgid
// and sticky bits cleared (fix says so) and is hashed into e; a directory
// sets isDir; anything else leaves e nil (the caller reports it skipped).
func globProduct(root *os.Root, rel string) (e *digest.Entry, isDir bool, fix string, err error) {
	name := filepath.FromSlash(rel)
	fi, err := root.Lstat(name)
	if err != nil {
		if strings.Contains(err.Error(), "escapes") {
			return nil, false, "", fmt.Errorf("%w: product %s: %w", ErrOutputEscape, rel, err)
		}
		return nil, false, "", err
	}
	switch {
	case fi.IsDir():
		return nil, true, "", nil
	case !fi.Mode().IsRegular():
		return nil, false, "", nil
	}
	if bits := fi.Mode() & specialBits; bits != 0 {
		if err := root.Chmod(name, fi.Mode().Perm()); err != nil {
			return nil, false, "", fmt.Errorf("clear %s bits of %s: %w", specialNames(bits), rel, err)
		}
		fix = "cleared " + specialNames(bits)
	}
	f, err := limits.OpenFileIn(root, name)
	if err != nil {
		return nil, false, "", err
	}
	defer f.Close()
	d, n, err := digest.Reader(f)
	if err != nil {
		return nil, false, "", fmt.Errorf("hash %s: %w", rel, err)
	}
	return &digest.Entry{Path: rel, Kind: digest.KindFile, Size: n, Digest: d}, false, fix, nil
}
