package limits

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// ErrNotRegular reports a path that names a FIFO, a device, a socket or a
// directory where the contents of a regular file were expected (or, from
// [OpenRoot], anything but a directory where a tree was). Opening a
// FIFO for reading blocks until a writer appears (forever, unstoppable by
// signals), and a device may never end; every path that comes from a user
// or from a build is therefore opened with [OpenFile] (or [OpenFileIn]).
var ErrNotRegular = errors.New("not a regular file")

// openFlags opens without waiting for a FIFO's writer or a device's
// carrier; the flag has no effect on reads of regular files.
const openFlags = os.O_RDONLY | syscall.O_NONBLOCK

// OpenFile opens path for reading and returns it only when it is a regular
// file. The open does not block (O_NONBLOCK) and the type is checked on
// the opened descriptor, so a FIFO or device swapped in after a Stat is
// still refused. Symbolic links are followed, as by os.Open. Anything but a
// regular file fails with an error naming the path that wraps
// [ErrNotRegular]. This is the one place Hallmark opens user- or
// build-supplied files for reading; tree walkers skip non-regular entries
// from their directory listing and open the rest with [OpenFileIn].
func OpenFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, openFlags, 0)
	if err != nil {
		return nil, err
	}
	return checkRegular(f, path)
}

// OpenFileIn is [OpenFile] for a name inside root: the open cannot leave
// the tree (os.Root) and does not block on FIFOs or devices.
func OpenFileIn(root *os.Root, name string) (*os.File, error) {
	f, err := root.OpenFile(name, openFlags, 0)
	if err != nil {
		return nil, err
	}
	return checkRegular(f, name)
}

// OpenRoot opens the directory dir as an os.Root. os.OpenRoot itself opens
// dir in blocking mode, so a FIFO given where a directory was expected
// would hang it: the type is checked first and anything but a directory is
// refused with [ErrNotRegular].
func OpenRoot(dir string) (*os.Root, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, &NotRegularError{Path: dir, Mode: fi.Mode(), Want: "directory"}
	}
	return os.OpenRoot(dir)
}

// StatFileOrDir stats an input that may be a regular file or a tree (a
// scan target) and refuses anything else with [ErrNotRegular], so that the
// caller never opens a FIFO or device. Symbolic links are followed.
func StatFileOrDir(path string) (fs.FileInfo, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() && !fi.Mode().IsRegular() {
		return nil, &NotRegularError{Path: path, Mode: fi.Mode()}
	}
	return fi, nil
}

// ReadFile reads the regular file at path, failing with [ErrTooLarge]
// beyond max bytes and with [ErrNotRegular] when it is not a regular file.
func ReadFile(path string, max int64) ([]byte, error) {
	f, err := OpenFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadAll(f, max, path)
}

// ReadFileIn is [ReadFile] for a name inside root: the open cannot leave
// the tree and does not block on FIFOs or devices.
func ReadFileIn(root *os.Root, name string, max int64) ([]byte, error) {
	f, err := OpenFileIn(root, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadAll(f, max, name)
}

// ReadFileFS is [ReadFile] for a name in fsys. The type is checked with
// fs.Stat before the open, so a FIFO or device is refused with
// [ErrNotRegular] without being opened (an fs.FS has no non-blocking open).
func ReadFileFS(fsys fs.FS, name string, max int64) ([]byte, error) {
	fi, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &NotRegularError{Path: name, Mode: fi.Mode()}
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadAll(f, max, name)
}

func checkRegular(f *os.File, name string) (*os.File, error) {
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat %s: %w", name, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, &NotRegularError{Path: name, Mode: fi.Mode()}
	}
	return f, nil
}

// NotRegularError names the path and what it is instead of a regular file.
type NotRegularError struct {
	Path string
	Mode fs.FileMode
	// Want is what was expected: "" for a regular file, or "directory".
	Want string
}

func (e *NotRegularError) Error() string {
	if e.Want != "" {
		return fmt.Sprintf("%s: not a %s (%s)", e.Path, e.Want, TypeName(e.Mode))
	}
	return fmt.Sprintf("%s: %v (%s)", e.Path, ErrNotRegular, TypeName(e.Mode))
}

// Unwrap makes errors.Is(err, ErrNotRegular) hold.
func (e *NotRegularError) Unwrap() error { return ErrNotRegular }

// TypeName names a file type in words, for messages.
func TypeName(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "regular file"
	case m.IsDir():
		return "directory"
	case m&fs.ModeNamedPipe != 0:
		return "FIFO"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "block device"
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	}
	return "irregular file"
}
