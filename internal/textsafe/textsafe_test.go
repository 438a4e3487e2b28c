package textsafe_test

import (
	"testing"

	"github.com/hallmark-dev/hallmark/internal/textsafe"
)

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"app":                     "app",
		`C:\path`:                 `C:\path`,
		"héllo wörld ✓":           "héllo wörld ✓",
		"\x1b[2J\x1b]0;pwned\x07": `\x1b[2J\x1b]0;pwned\x07`,
		"a\u009b31mred":           `a\x9b31mred`,
		"line\nforged line\r":     `line\nforged line\r`,
		"col\tcol":                `col\tcol`,
		"\u202eprod\u202c":        `\u202eprod\u202c`,
		"\u2066x\u2069\u200f":     `\u2066x\u2069\u200f`,
		"bad\xffutf8":             `bad\xffutf8`,
		"del\x7f":                 `del\x7f`,
	} {
		if got := textsafe.Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzEscape(f *testing.F) {
	f.Add("\x1b[31mred\u202e")
	f.Fuzz(func(t *testing.T, s string) {
		out := textsafe.Escape(s)
		for _, r := range out {
			if r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 {
				t.Fatalf("Escape(%q) = %q keeps %U", s, out, r)
			}
		}
	})
}
