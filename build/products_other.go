//go:build !unix

package build

import "io/fs"

func stateOf(fi fs.FileInfo) fileState {
	return fileState{size: fi.Size(), mtime: fi.ModTime(), mode: fi.Mode()}
}

// oNoFollow makes an open fail on a symbolic link.
const oNoFollow = 0
