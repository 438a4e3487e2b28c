package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func TestDiffCommand(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, filepath.Join(dir, "a.txt"), "built at 2026-11-25T10:00:00Z\nsame\n")
	b := writeFile(t, filepath.Join(dir, "b.txt"), "built at 2026-11-25T11:30:00Z\nsame\n")
	c := writeFile(t, filepath.Join(dir, "c.txt"), "built at 2026-11-25T10:00:00Z\nsame\n")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
	}{
		{"identical", []string{"diff", a, c}, ExitOK, "identical"},
		{"differ, text", []string{"diff", a, b}, ExitRejected, "likely causes: timestamp"},
		{"differ, json", []string{"diff", "--format", "json", a, b}, ExitRejected, `"timestamp"`},
		{"missing input", []string{"diff", a, filepath.Join(dir, "nope")}, ExitBadInput, ""},
		{"bad format", []string{"diff", "--format", "yaml", a, b}, ExitUsage, ""},
		{"one argument", []string{"diff", a}, ExitUsage, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ta := newTestApp(t)
			if code := ta.run(tt.args...); code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, ta.out, ta.errOut)
			}
			if !strings.Contains(ta.out.String(), tt.wantOut) {
				t.Errorf("stdout lacks %q:\n%s", tt.wantOut, ta.out)
			}
			if strings.Contains(strings.Join(tt.args, " "), "json") && tt.wantCode != ExitUsage {
				var v map[string]any
				if err := json.Unmarshal(ta.out.Bytes(), &v); err != nil {
					t.Errorf("--format json output is not JSON: %v", err)
				}
			}
		})
	}
}
