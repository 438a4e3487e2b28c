package redact_test

import (
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/redact"
)

// FuzzString checks that redaction of arbitrary text never panics, never
// grows text without bound, and leaves text without secrets unchanged in
// length when nothing is masked.
func FuzzString(f *testing.F) {
	r, err := redact.New()
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"", "password=hunter2", "--token abc", "https://u:p4ss@h/x", "AKIAQ3EGRT5YBXCKWD7M", "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := r.String(s)
		if len(out) > 16*len(s)+64 {
			t.Fatalf("output grew from %d to %d bytes", len(s), len(out))
		}
		if out != s && !strings.Contains(out, "[REDACTED") {
			t.Fatalf("text changed without a marker: %q -> %q", s, out)
		}
		_ = r.Env([]string{s, "X=" + s})
	})
}
