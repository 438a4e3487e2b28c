package sarif

import (
	"os"
	"path"
	"path/filepath"
	"slices"

	"github.com/hallmark-dev/hallmark/finding"
)

// RepoRelative makes finding locations relative to the repository root
// (the nearest directory above the scanned path holding .git), which is
// what %SRCROOT% means to GitHub code scanning; the scanners report them
// relative to the scanned path. Trees outside a repository are left alone.
// The findings are copied, not changed. The directory %SRCROOT% then
// stands for (for WithSrcRoot) is returned too.
func RepoRelative(scanned string, fs []finding.Finding) ([]finding.Finding, string) {
	dir, err := filepath.Abs(scanned)
	if err != nil {
		return fs, ""
	}
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		dir = filepath.Dir(dir)
	}
	for root := dir; ; root = filepath.Dir(root) {
		if _, err := os.Lstat(filepath.Join(root, ".git")); err == nil {
			prefix, err := filepath.Rel(root, dir)
			if err != nil {
				return fs, ""
			}
			if prefix == "." {
				return fs, root
			}
			out := slices.Clone(fs)
			for i := range out {
				if out[i].Location.Path != "" {
					out[i].Location.Path = path.Join(filepath.ToSlash(prefix), out[i].Location.Path)
				}
			}
			return out, root
		}
		if filepath.Dir(root) == root {
			return fs, dir
		}
	}
}
