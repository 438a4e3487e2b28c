package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
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
