// Package tooltest finds the peer programs that interoperability tests run
// against: the tools scripts/tools.sh builds at pinned versions (cosign, opa,
// rekor-tiles, timestamp-server, registries, gitleaks) and Debian's
// docker-registry. It is the one place that knows where they live.
package tooltest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// BinEnv names the directory scripts/tools.sh fills; it is searched first.
const BinEnv = "HALLMARK_TOOLS_BIN"

// Find returns the path of the first of names found in $HALLMARK_TOOLS_BIN,
// ~/.cache/hallmark/tools/bin, PATH or /usr/bin. When none is found the test
// is skipped, or fails when CI=true, so that CI never silently skips it.
func Find(t testing.TB, names ...string) string {
	t.Helper()
	if p, ok := Lookup(names...); ok {
		return p
	}
	msg := fmt.Sprintf("none of %v found in $%s, ~/.cache/hallmark/tools/bin or PATH (scripts/tools.sh builds the peer tools; Debian's docker-registry: apt-get install docker-registry)", names, BinEnv)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// Lookup is Find without the test: the path of the first of names found,
// and whether one was. For tools CI does not install by default, whose
// tests decide themselves whether to skip.
func Lookup(names ...string) (string, bool) {
	var dirs []string
	if d := os.Getenv(BinEnv); d != "" {
		dirs = append(dirs, d)
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, ".cache", "hallmark", "tools", "bin"))
	}
	for _, n := range names {
		for _, d := range dirs {
			if p := filepath.Join(d, n); isExec(p) {
				return p, true
			}
		}
		if p, err := exec.LookPath(n); err == nil {
			return p, true
		}
		if p := filepath.Join("/usr/bin", n); isExec(p) {
			return p, true
		}
	}
	return "", false
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}
