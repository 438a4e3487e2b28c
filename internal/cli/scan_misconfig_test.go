package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/finding"
	"github.com/hallmark-dev/hallmark/finding/sarif"
)

func misconfigTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, c := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, full, c)
	}
	return root
}

func TestScanMisconfig(t *testing.T) {
	root := misconfigTree(t, map[string]string{
		"Dockerfile": "FROM alpine:3.20\nRUN curl -fsSL https://x.example/i.sh | sh\nUSER 1000\n",
		".github/workflows/ci.yml": "on: push\npermissions: {contents: read}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n" +
			"      # hallmark:ignore HM-GHA-001 reason: internal action with protected tags\n      - uses: acme/tool@v1\n",
	})
	cfgFile := writeFile(t, filepath.Join(t.TempDir(), "misconfig.yaml"), "disabledRules: [HM-DF-001]\n")
	for _, tc := range []struct {
		name     string
		opts     scanMisconfigOptions
		wantCode int
		check    func(t *testing.T, out string)
	}{
		{"table", scanMisconfigOptions{Path: root}, ExitOK, func(t *testing.T, out string) {
			for _, want := range []string{"HIGH", "HM-DF-007", "Dockerfile:2", "suppressed", "HM-GHA-001"} {
				if !strings.Contains(out, want) {
					t.Errorf("table lacks %q:\n%s", want, out)
				}
			}
		}},
		{"json with config", scanMisconfigOptions{Path: root, Format: "json", ConfigFile: cfgFile}, ExitOK, func(t *testing.T, out string) {
			var r finding.Report
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatal(err)
			}
			for _, f := range r.Findings {
				if f.RuleID == "HM-DF-001" {
					t.Errorf("disabled rule reported: %+v", f)
				}
			}
			if r.Counts.Total != 1 || r.Counts.Suppressed != 1 {
				t.Errorf("counts = %+v, want 1 finding and 1 suppressed", r.Counts)
			}
		}},
		{"sarif", scanMisconfigOptions{Path: root, Format: "sarif"}, ExitOK, func(t *testing.T, out string) {
			var l sarif.Log
			if err := json.Unmarshal([]byte(out), &l); err != nil {
				t.Fatal(err)
			}
			if l.Version != "2.1.0" || len(l.Runs[0].Results) != 3 {
				t.Errorf("sarif version %q with %d results", l.Version, len(l.Runs[0].Results))
			}
			// The same driver as scan --vulns names (a copy once said
			// "(devel)" and the GitHub URL).
			if d, want := l.Runs[0].Tool.Driver, sarifTool(); d.Name != want.Name || d.Version != want.Version || d.InformationURI != want.InformationURI {
				t.Errorf("sarif driver %s %s %s, want %+v", d.Name, d.Version, d.InformationURI, want)
			}
		}},
		{"fail-on high", scanMisconfigOptions{Path: root, FailOn: "high"}, ExitRejected, nil},
		{"fail-on critical passes", scanMisconfigOptions{Path: root, FailOn: "critical"}, ExitOK, nil},
		{"bad format", scanMisconfigOptions{Path: root, Format: "xml"}, ExitUsage, nil},
		{"bad severity", scanMisconfigOptions{Path: root, FailOn: "severe"}, ExitUsage, nil},
		{"missing path", scanMisconfigOptions{Path: filepath.Join(root, "nope")}, ExitBadInput, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ta := newTestApp(t)
			err := ta.runScanMisconfig(t.Context(), tc.opts)
			if got := exitCode(err); got != tc.wantCode {
				t.Fatalf("exit code %d (err %v), want %d", got, err, tc.wantCode)
			}
			if tc.check != nil {
				tc.check(t, ta.out.String())
			}
		})
	}
}

func TestScanMisconfigReportsUnparsableFiles(t *testing.T) {
	root := misconfigTree(t, map[string]string{
		"ok/Dockerfile":   "FROM alpine:3.20\nUSER 1\n",
		"k8s/broken.yaml": "apiVersion: v1\nkind: Pod\nspec: [\n",
	})
	ta := newTestApp(t)
	err := ta.runScanMisconfig(t.Context(), scanMisconfigOptions{Path: root})
	if code := exitCode(err); code != ExitBadInput {
		t.Fatalf("exit code %d, want %d (err %v)", code, ExitBadInput, err)
	}
	if !strings.Contains(ta.errOut.String(), "k8s/broken.yaml") {
		t.Errorf("stderr does not name the broken file: %s", ta.errOut)
	}
	if !strings.Contains(ta.out.String(), "HM-DF-001") {
		t.Errorf("findings of the good file missing: %s", ta.out)
	}
}

// TestScanMisconfigJudgesCopiedPath: `COPY credentials credentials` of a Go
// package directory is not a credentials file (issue 16.7), a directory
// holding one still is, and the --fail-on message counts only the findings
// that meet the threshold.
func TestScanMisconfigJudgesCopiedPath(t *testing.T) {
	root := misconfigTree(t, map[string]string{
		"Dockerfile":                      "FROM golang:1.25@sha256:" + strings.Repeat("a", 64) + "\nCOPY credentials credentials\nCOPY app/credentials /etc/app/\nCOPY kubeconfig /root/.kube/config\nRUN apt-get install -y curl\nUSER 1000\n",
		"credentials/credentials.go":      "package credentials\n",
		"credentials/credentials_test.go": "package credentials\n",
		"app/credentials/.env":            "TOKEN=x\n",
		"kubeconfig":                      "apiVersion: v1\n",
	})
	ta := newTestApp(t)
	code := ta.run("scan", "--misconfig", root, "--format", "json", "--fail-on", "high")
	var r finding.Report
	if err := json.Unmarshal(ta.out.Bytes(), &r); err != nil {
		t.Fatalf("exit %d: %v\n%s%s", code, err, ta.out, ta.errOut)
	}
	var copied []string
	for _, f := range r.Findings {
		if f.RuleID == "HM-DF-006" {
			copied = append(copied, f.Evidence)
		}
	}
	if want := []string{"COPY app/credentials", "COPY kubeconfig"}; strings.Join(copied, "|") != strings.Join(want, "|") {
		t.Errorf("HM-DF-006 reported for %q, want %q", copied, want)
	}
	if code != ExitRejected {
		t.Fatalf("exit %d, want %d", code, ExitRejected)
	}
	failing := finding.AtLeast(r.Findings, finding.SeverityHigh)
	want := "at or above high: " + finding.Count(failing).String() + " (" + strconv.Itoa(r.Counts.Total-len(failing)) + " more below high)"
	if len(failing) == r.Counts.Total || !strings.Contains(ta.errOut.String(), want) {
		t.Errorf("stderr %q does not say %q (of %d findings)", ta.errOut, want, r.Counts.Total)
	}
}

// TestScanMisconfigSARIFRepoRelative: scanning a subfolder of a repository
// gives SARIF URIs relative to the repository root, as %SRCROOT% means to
// GitHub code scanning (issue 16.12).
func TestScanMisconfigSARIFRepoRelative(t *testing.T) {
	repo := misconfigTree(t, map[string]string{
		".git/HEAD":             "ref: refs/heads/main\n",
		"deploy/app/Dockerfile": "FROM alpine:3.20\nRUN curl -fsSL https://x.example/i.sh | sh\nUSER 1000\n",
	})
	ta := newTestApp(t)
	ta.run("scan", "--misconfig", filepath.Join(repo, "deploy"), "--format", "sarif")
	var l sarif.Log
	if err := json.Unmarshal(ta.out.Bytes(), &l); err != nil {
		t.Fatalf("%v\n%s", err, ta.errOut)
	}
	if len(l.Runs) != 1 || len(l.Runs[0].Results) == 0 {
		t.Fatalf("SARIF has no results:\n%s", ta.out)
	}
	if got, want := l.Runs[0].OriginalURIBaseIDs["%SRCROOT%"].URI, "file://"+filepath.ToSlash(repo)+"/"; got != want {
		t.Errorf("originalUriBaseIds %%SRCROOT%% = %q, want %q", got, want)
	}
	for _, r := range l.Runs[0].Results {
		al := r.Locations[0].PhysicalLocation.ArtifactLocation
		if al.URI != "deploy/app/Dockerfile" || al.URIBaseID != "%SRCROOT%" {
			t.Errorf("artifactLocation = %+v, want deploy/app/Dockerfile under %%SRCROOT%%", al)
		}
	}
}
