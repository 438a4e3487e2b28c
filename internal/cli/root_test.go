package cli

import (
	"strings"
	"testing"
)

// `hallmark --version` works like `hallmark version`, and help shows
// boolean flags bare, not as "--help[=true|false]" (issue 16.11).
func TestVersionFlagAndHelp(t *testing.T) {
	ta := newTestApp(t)
	ta.mustRun(t, "version")
	want := ta.out.String()
	ta.mustRun(t, "--version")
	if ta.out.String() != want || !strings.HasPrefix(want, "hallmark ") {
		t.Errorf("--version printed %q, version printed %q", ta.out, want)
	}
	for _, args := range [][]string{{"--help"}, {"gate", "--help"}, {"help", "scan"}} {
		ta.mustRun(t, args...)
		out := ta.out.String()
		if strings.Contains(out+ta.errOut.String(), "[=true|false]") || !strings.Contains(out, "--help ") || !strings.Contains(out, "Usage:") {
			t.Errorf("hallmark %s:\n%s%s", strings.Join(args, " "), out, ta.errOut)
		}
	}
}
