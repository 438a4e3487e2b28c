package limits

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// ErrNotRegular reports a path that names a FIFO, a device, a socket or a
// directory where the contents of a regular file were expected. Opening a
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
}

func (e *NotRegularError) Error() string {
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
