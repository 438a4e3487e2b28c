package policy_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/finding"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/policy/policytest"
)

// TestInputJSONMatchesEncodingJSON: the Rego input uses encoding/json's
// names and encodings wherever encoding/json would not emit null.
func TestInputJSONMatchesEncodingJSON(t *testing.T) {
	in := policytest.Sized(now, policytest.Options{Components: 3, Findings: 5})
	got, err := policy.InputJSON(in)
	if err != nil {
		t.Fatal(err)
	}
	want, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	// encoding/json writes null for the fixture's nil slices and maps, where
	// InputJSON writes [] and {}; accept exactly that difference.
	if diff := cmp.Diff(nullsAsEmpty(w, g), g); diff != "" {
		t.Errorf("InputJSON differs from encoding/json (-json +InputJSON):\n%s", diff)
	}
}

// nullsAsEmpty returns w with each null replaced by the value at the same
// path in g when that value is an empty array or object.
func nullsAsEmpty(w, g any) any {
	switch wv := w.(type) {
	case nil:
		if a, ok := g.([]any); ok && len(a) == 0 {
			return a
		}
		if m, ok := g.(map[string]any); ok && len(m) == 0 {
			return m
		}
	case map[string]any:
		gm, _ := g.(map[string]any)
		out := map[string]any{}
		for k, v := range wv {
			out[k] = nullsAsEmpty(v, gm[k])
		}
		return out
	case []any:
		ga, _ := g.([]any)
		out := make([]any, len(wv))
		for i, v := range wv {
			var gi any
			if i < len(ga) {
				gi = ga[i]
			}
			out[i] = nullsAsEmpty(v, gi)
		}
		return out
	}
	return w
}

func TestInputJSONEncodings(t *testing.T) {
	in := policy.Input{
		Artifact: policy.Artifact{Digest: digest.Sum256([]byte("app"))},
		Context:  policy.Context{Time: time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)},
		Evidence: policy.Evidence{Vulns: []policy.VulnScan{{Findings: []policy.VulnFinding{{Severity: finding.SeverityCritical}}}}},
	}
	b, err := policy.InputJSON(in)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Context struct {
			Time string `json:"time"`
		} `json:"context"`
		Evidence struct {
			Vulns []struct {
				Findings []struct {
					Severity string `json:"severity"`
				} `json:"findings"`
				Subjects []string `json:"subjects"`
			} `json:"vulns"`
			TEE []any `json:"tee"`
		} `json:"evidence"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Context.Time != "2026-01-02T03:04:05.0000006Z" {
		t.Errorf("time = %q", doc.Context.Time)
	}
	if doc.Evidence.Vulns[0].Findings[0].Severity != "critical" {
		t.Errorf("severity = %q", doc.Evidence.Vulns[0].Findings[0].Severity)
	}
	if doc.Evidence.Vulns[0].Subjects == nil || doc.Evidence.TEE == nil {
		t.Errorf("nil collections became null: %s", b)
	}
}
