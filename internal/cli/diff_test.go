package cli

import (
	"encoding/json"
	"os"
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

func TestReproCommand(t *testing.T) {
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "in.txt"), "input\n")
	ta := newTestApp(t)
	ta.env["PATH"] = os.Getenv("PATH")
	// A build that records its time zone: not reproducible, culprit timezone.
	code := ta.run("repro", "--source", src, "--vary", "timezone,home,umask", "--explain", "--", "sh", "-c", "date +%z > out.txt")
	if code != ExitRejected {
		t.Fatalf("exit %d, want %d\n%s%s", code, ExitRejected, ta.out, ta.errOut)
	}
	for _, want := range []string{"DIFF out.txt", "not reproducible: broken by timezone", "+++ experiment/out.txt"} {
		if !strings.Contains(ta.out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, ta.out)
		}
	}
	ta.mustRun(t, "repro", "--source", src, "--vary", "timezone", "--", "sh", "-c", "cp in.txt out.txt")
	if !strings.Contains(ta.out.String(), "\nreproducible\n") {
		t.Errorf("want reproducible:\n%s", ta.out)
	}
	if code := ta.run("repro", "--vary", "moonphase", "--", "true"); code != ExitUsage {
		t.Errorf("unknown variation: exit %d, want %d", code, ExitUsage)
	}
}
