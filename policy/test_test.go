package policy_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hallmark-dev/hallmark/policy"
)

func TestTestUserPolicy(t *testing.T) {
	results, err := policy.Test(t.Context(), filepath.Join("testdata", "userpolicy"))
	if err != nil {
		t.Fatal(err)
	}
	type outcome struct {
		Pass, Skip, Errored bool
	}
	got := map[string]outcome{}
	for _, r := range results {
		got[r.Package+"."+r.Name] = outcome{Pass: r.Pass, Skip: r.Skip, Errored: r.Err != ""}
		if r.Location == "" || r.String() == "" {
			t.Errorf("result %+v lacks a location or rendering", r)
		}
	}
	want := map[string]outcome{
		"data.hallmark.policy_test.test_staging_allowed":               {Pass: true},
		"data.hallmark.policy_test.test_prod_without_ticket_denied":    {Pass: true},
		"data.hallmark.policy_test.test_unsigned_provenance_denied":    {Pass: true},
		"data.hallmark.policy_test.test_dev_allowed_wrong_expectation": {},
		"data.hallmark.policy_test.test_errors":                        {Errored: true},
		"data.hallmark.policy_test.todo_test_canary_rollout":           {Skip: true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("test outcomes (-want +got):\n%s", diff)
	}
}

// TestTestUserPolicyEvaluates: the sample policy also works through Eval,
// reading its data.json through WithData.
func TestTestUserPolicyEvaluates(t *testing.T) {
	p := userPolicy(t, mustRead(t, filepath.Join("testdata", "userpolicy", "policy.rego")),
		policy.WithData(map[string]any{"acme": map[string]any{"environments": []any{"staging", "prod"}}}))
	in := policyInputForUser()
	d, err := p.Eval(t.Context(), in)
	// Level 2, not 3: without parameters no builder is allowlisted for L3.
	if err != nil || !d.Allow || d.SLSABuildLevel != 2 {
		t.Fatalf("Eval = %+v, %v; want allow at level 2", d, err)
	}
	in.Context.Requester = "ci"
	d, _ = p.Eval(t.Context(), in)
	if diff := cmp.Diff([]string{"acme.ticket"}, ruleIDs(d)); diff != "" {
		t.Errorf("rule IDs (-want +got):\n%s", diff)
	}
}

func TestTestErrors(t *testing.T) {
	for _, tc := range []struct{ name, dir string }{
		{"syntax error", filepath.Join("testdata", "broken")},
		{"missing", filepath.Join("testdata", "nope")},
		{"not a directory", filepath.Join("testdata", "userpolicy", "data.json")},
		{"no rego", t.TempDir()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := policy.Test(t.Context(), tc.dir); !errors.Is(err, policy.ErrTest) {
				t.Errorf("Test(%s) error = %v, want ErrTest", tc.dir, err)
			}
		})
	}
}
