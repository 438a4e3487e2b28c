package materials

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/hallmark-dev/hallmark/internal/limits"
)

// Read parses the lockfiles at paths (slash paths relative to dir, as
// listed by a tree walk) through an os.Root on dir, so a path can never
// reach outside it. Files that are not lockfiles are ignored. The result is
// sorted by PURL, then origin.
func Read(dir string, paths []string) ([]Dependency, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("materials: open %s: %w", dir, err)
	}
	defer root.Close()
	var all []Dependency
	for _, p := range paths {
		if !IsLockfile(p) {
			continue
		}
		data, err := limits.ReadFileIn(root, p, MaxLockfileSize)
		if err != nil {
			return nil, fmt.Errorf("materials: lockfile %w", err)
		}
		deps, err := Parse(p, data)
		if err != nil {
			return nil, err
		}
		all = append(all, deps...)
	}
	slices.SortFunc(all, func(a, b Dependency) int {
		if c := strings.Compare(a.PURL, b.PURL); c != 0 {
			return c
		}
		return strings.Compare(a.Origin, b.Origin)
	})
	return all, nil
}
