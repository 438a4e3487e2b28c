package secrets_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hallmark-dev/hallmark/secrets"
	"github.com/hallmark-dev/hallmark/secrets/secretstest"
)

func TestAllowlist(t *testing.T) {
	cs := secretstest.Canaries(t, 21)
	aws, gh, stripe := cs[0], cs[2], cs[5]
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "testdata/keys.txt"), []byte(aws.Text))
	writeFile(t, filepath.Join(dir, "deploy/env.sh"), []byte("#!/bin/sh\n"+gh.Text))
	writeFile(t, filepath.Join(dir, "deploy/pay.yaml"), []byte(stripe.Text))
	writeFile(t, filepath.Join(dir, "bundle.tar"), tarBytes(t, entry{"fixtures/env.sh", []byte(gh.Text)}))
	all := []string{
		"bundle.tar!fixtures/env.sh github-pat",
		"deploy/env.sh github-pat",
		"deploy/pay.yaml stripe-access-token",
		"testdata/keys.txt aws-access-token",
	}
	suppressed := func(keep []string, which ...string) []string {
		var out []string
		for _, k := range keep {
			for _, w := range which {
				if strings.HasPrefix(k, w+" ") {
					k += " (suppressed)"
				}
			}
			out = append(out, k)
		}
		return out
	}
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"none", "version: 1\n", all},
		{"path", "version: 1\nentries:\n  - reason: fixtures\n    paths: ['^testdata/', '!fixtures/']\n",
			suppressed(all, "testdata/keys.txt", "bundle.tar!fixtures/env.sh")},
		{"rule", "version: 1\nentries:\n  - reason: sandbox tokens\n    rules: [stripe-access-token]\n",
			suppressed(all, "deploy/pay.yaml")},
		{"path and rule must both match", "version: 1\nentries:\n  - reason: r\n    paths: ['^deploy/']\n    rules: [github-pat]\n",
			suppressed(all, "deploy/env.sh")},
		{"fingerprint", "version: 1\nentries:\n  - reason: revoked 2026-01-02\n    fingerprints: ['deploy/env.sh:github-pat:2', 'deploy/env.sh:github-pat:9']\n",
			suppressed(all, "deploy/env.sh")},
		{"regex on the secret", "version: 1\nentries:\n  - reason: known canary\n    regexes: ['^" + aws.Needles[0] + "$']\n",
			suppressed(all, "testdata/keys.txt")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			al, err := secrets.ParseAllowlist(strings.NewReader(tc.yaml))
			if err != nil {
				t.Fatalf("ParseAllowlist: %v", err)
			}
			fs := scan(t, dir, secrets.Config{Allowlist: al})
			if diff := cmp.Diff(tc.want, keys(fs)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			for _, f := range fs {
				if f.Suppressed && !strings.HasPrefix(f.SuppressedReason, "allowlist: ") {
					t.Errorf("%s: reason %q", key(f), f.SuppressedReason)
				}
			}
			// A regex entry holds the secret itself; it must not reach the report.
			assertNoLeak(t, fs, cs)
		})
	}
}

func TestParseAllowlistErrors(t *testing.T) {
	for _, tc := range []struct{ name, yaml string }{
		{"no version", "entries: []\n"},
		{"no reason", "version: 1\nentries:\n  - paths: [x]\n"},
		{"blank reason", "version: 1\nentries:\n  - reason: '  '\n    paths: [x]\n"},
		{"no criteria", "version: 1\nentries:\n  - reason: everything\n"},
		{"unknown field", "version: 1\nentries:\n  - reason: r\n    path: [x]\n"},
		{"bad regex", "version: 1\nentries:\n  - reason: r\n    regexes: ['(']\n"},
		{"not yaml", "{{{"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := secrets.ParseAllowlist(strings.NewReader(tc.yaml)); !errors.Is(err, secrets.ErrAllowlist) {
				t.Errorf("error = %v, want ErrAllowlist", err)
			}
		})
	}
	if _, err := secrets.ParseAllowlist(strings.NewReader(strings.Repeat("#", 2<<20))); !errors.Is(err, secrets.ErrAllowlist) {
		t.Errorf("oversized allowlist: error = %v, want ErrAllowlist", err)
	}
}

func TestInlineAllow(t *testing.T) {
	cs := secretstest.Canaries(t, 23)
	gh, pem := cs[2], cs[7]
	tok := strings.TrimSpace(strings.TrimPrefix(gh.Text, "export GH_TOKEN="))
	for _, tc := range []struct {
		name, text string
		suppressed bool
		reason     string
		ignored    bool
	}{
		{"same line", "token = \"" + tok + "\" # hallmark:allow-secret reason: revoked canary for docs\n", true, "inline comment: revoked canary for docs", false},
		{"line before", "// hallmark:allow-secret reason: fixture key, never deployed\n" + pem.Text, true, "inline comment: fixture key, never deployed", false},
		{"block comment", "x = '" + tok + "' /* hallmark:allow-secret reason: test vector */\n", true, "inline comment: test vector", false},
		{"no reason", "token = \"" + tok + "\" # hallmark:allow-secret\n", false, "", true},
		{"empty reason", "token = \"" + tok + "\" # hallmark:allow-secret reason:   \n", false, "", true},
		{"bare gitleaks comment is not honoured", "token = \"" + tok + "\" # gitleaks:allow\n", false, "", false},
		{"comment two lines up does not count", "# hallmark:allow-secret reason: far away\n\ntoken = \"" + tok + "\"\n", false, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "f.txt"), []byte(tc.text))
			fs := scan(t, dir, secrets.Config{})
			if len(fs) == 0 {
				t.Fatal("no finding")
			}
			for _, f := range fs {
				if f.Suppressed != tc.suppressed || f.SuppressedReason != tc.reason {
					t.Errorf("%s: suppressed=%v reason=%q, want %v %q", key(f), f.Suppressed, f.SuppressedReason, tc.suppressed, tc.reason)
				}
				if got := strings.Contains(f.Message, "gives no reason"); got != tc.ignored {
					t.Errorf("%s: message %q, want mention of the ignored comment: %v", key(f), f.Message, tc.ignored)
				}
			}
		})
	}
}
