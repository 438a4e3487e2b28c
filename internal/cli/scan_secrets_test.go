package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/finding"
	"github.com/hallmark-dev/hallmark/finding/sarif"
	"github.com/hallmark-dev/hallmark/secrets/secretstest"
)

func TestScanSecrets(t *testing.T) {
	cs := secretstest.Canaries(t, 77)
	aws, gh := cs[0], cs[2]
	root := misconfigTree(t, map[string]string{
		"deploy/credentials": aws.Text,
		"ci/env.sh":          "#!/bin/sh\n" + gh.Text,
		"README.md":          "# app\n",
	})
	allow := writeFile(t, filepath.Join(t.TempDir(), "allow.yaml"), "version: 1\nentries:\n  - reason: revoked canary\n    paths: ['^ci/']\n")
	allowEnv := writeFile(t, filepath.Join(t.TempDir(), "allow-env.yaml"), "version: 1\nentries:\n  - reason: revoked canary\n    paths: ['^env\\.sh$']\n    rules: [github-pat]\n")
	broken := misconfigTree(t, map[string]string{"bundle.zip": "PK\x03\x04 not really a zip"})
	badAllow := writeFile(t, filepath.Join(t.TempDir(), "bad.yaml"), "version: 1\nentries:\n  - paths: ['^ci/']\n")
	noLeak := func(t *testing.T, out string) {
		t.Helper()
		for _, c := range []secretstest.Canary{aws, gh} {
			for _, n := range c.Needles {
				if strings.Contains(out, n) {
					t.Errorf("output leaks canary %q", c.Name)
				}
			}
		}
	}
	for _, tc := range []struct {
		name     string
		opts     scanSecretsOptions
		wantCode int
		check    func(t *testing.T, out string)
	}{
		{"table", scanSecretsOptions{Path: root}, ExitOK, func(t *testing.T, out string) {
			for _, want := range []string{"CRITICAL", "aws-access-token", "deploy/credentials:2", "github-pat", "ci/env.sh:2", "AKIA****"} {
				if !strings.Contains(out, want) {
					t.Errorf("table lacks %q:\n%s", want, out)
				}
			}
		}},
		{"json with allowlist", scanSecretsOptions{Path: root, Format: "json", AllowlistFile: allow}, ExitOK, func(t *testing.T, out string) {
			var r finding.Report
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatal(err)
			}
			if r.Counts.Total != 1 || r.Counts.Suppressed != 1 {
				t.Errorf("counts = %+v, want 1 finding and 1 suppressed", r.Counts)
			}
		}},
		{"sarif", scanSecretsOptions{Path: root, Format: "sarif"}, ExitOK, func(t *testing.T, out string) {
			var l sarif.Log
			if err := json.Unmarshal([]byte(out), &l); err != nil {
				t.Fatal(err)
			}
			if l.Version != "2.1.0" || len(l.Runs[0].Results) != 2 {
				t.Errorf("sarif version %q with %d results", l.Version, len(l.Runs[0].Results))
			}
			// The same driver as scan --vulns names (a copy once said
			// "(devel)" and the GitHub URL).
			if d, want := l.Runs[0].Tool.Driver, sarifTool(); d.Name != want.Name || d.Version != want.Version || d.InformationURI != want.InformationURI {
				t.Errorf("sarif driver %s %s %s, want %+v", d.Name, d.Version, d.InformationURI, want)
			}
		}},
		{"fail-on critical", scanSecretsOptions{Path: root, FailOn: "critical"}, ExitRejected, nil},
		{"fail-on ignores waived findings", scanSecretsOptions{Path: filepath.Join(root, "ci"), FailOn: "low", AllowlistFile: allowEnv}, ExitOK, nil},
		{"fail-on without the waiver", scanSecretsOptions{Path: filepath.Join(root, "ci"), FailOn: "low"}, ExitRejected, nil},
		{"unscanned part", scanSecretsOptions{Path: broken}, ExitBadInput, func(t *testing.T, out string) {
			if !strings.Contains(out, "hallmark-scan-incomplete") {
				t.Errorf("table lacks the incomplete finding:\n%s", out)
			}
		}},
		{"unscanned part fails --fail-on", scanSecretsOptions{Path: broken, FailOn: "critical"}, ExitRejected, nil},
		{"single file", scanSecretsOptions{Path: filepath.Join(root, "README.md"), FailOn: "low"}, ExitOK, nil},
		{"bad allowlist", scanSecretsOptions{Path: root, AllowlistFile: badAllow}, ExitBadInput, nil},
		{"bad format", scanSecretsOptions{Path: root, Format: "xml"}, ExitUsage, nil},
		{"no path", scanSecretsOptions{}, ExitUsage, nil},
		{"missing path", scanSecretsOptions{Path: filepath.Join(root, "nope")}, ExitBadInput, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ta := newTestApp(t)
			err := ta.runScanSecrets(t.Context(), tc.opts)
			if got := exitCode(err); got != tc.wantCode {
				t.Fatalf("exit code %d (err %v), want %d", got, err, tc.wantCode)
			}
			noLeak(t, ta.out.String()+ta.errOut.String())
			if tc.check != nil {
				tc.check(t, ta.out.String())
			}
		})
	}
}
