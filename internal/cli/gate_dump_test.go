package cli

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/internal/tooltest"
)

// TestGateDumpInputReplaysWithOPA: `gate --dump-input` writes the input and
// the policy, and OPA itself, given them, reaches the same decision
// (issue 16.12), for an allow and for a deny.
func TestGateDumpInputReplaysWithOPA(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end pipeline skipped with -short")
	}
	opa := tooltest.Find(t, "opa")
	e := runPipeline(t)
	for _, tc := range []struct {
		name    string
		bundles []string
		allow   bool
		rule    string
	}{
		{"allow", e.all(), true, ""},
		{"deny", without(e.all(), e.approvals[1]), false, "approvals.insufficient"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "input.json")
			code, out := e.gate(t, tc.bundles, "--dump-input", file)
			if (code == ExitOK) != tc.allow {
				t.Fatalf("gate exit %d, want allow=%v\n%s", code, tc.allow, out)
			}
			_, cmdline, ok := strings.Cut(out, "replay with:\n  opa eval ")
			if !ok {
				t.Fatalf("no replay command in:\n%s", out)
			}
			cmdline, _, _ = strings.Cut(cmdline, "\n")
			args := strings.Fields(cmdline)
			query := strings.Trim(args[len(args)-1], "'")
			args = append([]string{"eval", "--format", "json"}, append(args[:len(args)-1], query)...)
			res, err := exec.CommandContext(t.Context(), opa, args...).Output()
			if err != nil {
				t.Fatalf("opa %v: %v", args, err)
			}
			var r struct {
				Result []struct {
					Expressions []struct {
						Value struct {
							Allow      bool `json:"allow"`
							Violations []struct {
								RuleID string `json:"ruleId"`
							} `json:"violations"`
						} `json:"value"`
					} `json:"expressions"`
				} `json:"result"`
			}
			if err := json.Unmarshal(res, &r); err != nil || len(r.Result) != 1 || len(r.Result[0].Expressions) != 1 {
				t.Fatalf("opa output (%v):\n%s", err, res)
			}
			v := r.Result[0].Expressions[0].Value
			if v.Allow != tc.allow {
				t.Errorf("opa eval allow = %v, gate said %v\n%s", v.Allow, tc.allow, res)
			}
			if tc.rule != "" && !strings.Contains(string(res), tc.rule) {
				t.Errorf("opa eval does not name %s:\n%s", tc.rule, res)
			}
		})
	}
}
