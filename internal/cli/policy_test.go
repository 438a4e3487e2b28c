package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hallmark-dev/hallmark/policy"
)

func writePolicyDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		writeFile(t, filepath.Join(dir, name), content)
	}
	return dir
}

const cliPolicy = `package hallmark.policy

decision := {"allow": input.context.environment != "prod", "violations": [{"ruleId": "r", "message": "prod is closed"} | input.context.environment == "prod"]}
`

func TestPolicyTest(t *testing.T) {
	passing := writePolicyDir(t, map[string]string{
		"policy.rego": cliPolicy,
		"policy_test.rego": `package hallmark.policy_test

import data.hallmark.policy

test_dev_allowed if policy.decision.allow with input as {"context": {"environment": "dev"}}

test_prod_denied if not policy.decision.allow with input as {"context": {"environment": "prod"}}
`,
	})
	failing := writePolicyDir(t, map[string]string{
		"policy.rego": cliPolicy,
		"policy_test.rego": `package hallmark.policy_test

import data.hallmark.policy

test_dev_allowed if policy.decision.allow with input as {"context": {"environment": "dev"}}

test_prod_allowed if {
	print("decision:", policy.decision) with input as {"context": {"environment": "prod"}}
	policy.decision.allow with input as {"context": {"environment": "prod"}}
}
`,
	})
	broken := writePolicyDir(t, map[string]string{"policy.rego": "package x\n\ny := {\n"})
	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string
	}{
		{name: "all pass", args: []string{"policy", "test", passing}, wantCode: ExitOK, wantOut: []string{"PASS: 2/2"}},
		{name: "verbose lists passes", args: []string{"policy", "test", "-v", passing}, wantCode: ExitOK, wantOut: []string{"test_prod_denied: PASS", "PASS: 2/2"}},
		{name: "a failure", args: []string{"policy", "test", failing}, wantCode: ExitRejected, wantOut: []string{"test_prod_allowed: FAIL", "decision:", "PASS: 1/2, FAIL: 1/2"}},
		{name: "does not compile", args: []string{"policy", "test", broken}, wantCode: ExitBadInput},
		{name: "missing dir", args: []string{"policy", "test", filepath.Join(passing, "nope")}, wantCode: ExitBadInput},
		{name: "bad format", args: []string{"policy", "test", "--format", "xml", passing}, wantCode: ExitUsage},
		{name: "no dir", args: []string{"policy", "test"}, wantCode: ExitUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ta := newTestApp(t)
			if code := ta.run(tc.args...); code != tc.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.wantCode, ta.out, ta.errOut)
			}
			for _, w := range tc.wantOut {
				if !strings.Contains(ta.out.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, ta.out)
				}
			}
		})
	}
	t.Run("json", func(t *testing.T) {
		ta := newTestApp(t)
		if code := ta.run("policy", "test", "--format", "json", failing); code != ExitRejected {
			t.Fatalf("exit %d: %s", code, ta.errOut)
		}
		var results []struct {
			Name string `json:"name"`
			Pass bool   `json:"pass"`
		}
		if err := json.Unmarshal(ta.out.Bytes(), &results); err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, r := range results {
			got[r.Name] = r.Pass
		}
		if diff := cmp.Diff(map[string]bool{"test_dev_allowed": true, "test_prod_allowed": false}, got); diff != "" {
			t.Errorf("results (-want +got):\n%s", diff)
		}
	})
}

func TestPolicyPresets(t *testing.T) {
	ta := newTestApp(t)
	ta.mustRun(t, "policy", "presets")
	for _, env := range []string{"dev:", "staging:", "prod:"} {
		if !strings.Contains(ta.out.String(), env) {
			t.Errorf("presets output lacks %s", env)
		}
	}
	// The printed file is a valid preset to start from.
	if _, err := policy.ParsePreset(ta.out.Bytes()); err != nil {
		t.Errorf("printed presets do not parse: %v", err)
	}
}
