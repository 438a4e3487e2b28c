package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestProgress: a tree secrets scan reports files scanned on stderr when
// stderr is a terminal, never on stdout (the JSON stays parseable), and is
// quiet with --quiet or when stderr is not a terminal (issue 16.9).
func TestProgress(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a.txt", "b.txt"} {
		writeFile(t, filepath.Join(dir, n), "nothing secret\n")
	}
	for _, tc := range []struct {
		name     string
		terminal bool
		args     []string
		want     bool
	}{
		{"terminal", true, nil, true},
		{"terminal --quiet", true, []string{"--quiet"}, false},
		{"terminal -q", true, []string{"-q"}, false},
		{"not a terminal", false, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ta := newTestApp(t)
			ta.StderrTerminal = tc.terminal
			ta.mustRun(t, append([]string{"scan", "--secrets", dir, "--format", "json"}, tc.args...)...)
			var v any
			if err := json.Unmarshal(ta.out.Bytes(), &v); err != nil {
				t.Errorf("stdout is not JSON: %v\n%s", err, ta.out)
			}
			got := strings.Contains(ta.errOut.String(), "hallmark: secrets scan: 1 files (")
			if got != tc.want {
				t.Errorf("progress on stderr = %v, want %v:\n%s", got, tc.want, ta.errOut)
			}
		})
	}
}
