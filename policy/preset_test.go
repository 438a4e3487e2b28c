package policy_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hallmark-dev/hallmark/finding"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/policy/policytest"
)

func TestBuiltinPresets(t *testing.T) {
	presets, err := policy.BuiltinPresets()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"dev", "prod", "staging"}, presets.EnvironmentNames()); diff != "" {
		t.Errorf("environments (-want +got):\n%s", diff)
	}
	prod, _ := presets.Params("prod")
	// Every group but tee, which is enforced only with reference values,
	// and transparency, which needs a trusted root (docs/tlog.md).
	wantProd := slices.DeleteFunc(policy.RuleGroups(), func(g string) bool { return g == "tee" || g == "transparency" || g == "identity" })
	if diff := cmp.Diff(wantProd, prod.Rules); diff != "" {
		t.Errorf("prod does not enforce every rule group but tee and transparency (-want +got):\n%s", diff)
	}
	if prod.Vulns.FailAt != finding.SeverityHigh || prod.Approvals.Min != 2 || prod.Reproducible.MinRebuilders != 2 {
		t.Errorf("prod parameters = %+v", prod)
	}
	// The realistic fixture, retargeted per environment, passes dev and
	// staging as shipped; prod needs its deployment's TEE reference values.
	for _, env := range []string{"dev", "staging"} {
		t.Run(env, func(t *testing.T) {
			p, err := policy.CompilePreset(t.Context(), presets, env)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := p.URI(), "builtin:v1/"+env; got != want {
				t.Errorf("URI = %q, want %q", got, want)
			}
			in := policytest.Input(now)
			in.Context.Environment = env
			for i := range in.Evidence.Approvals {
				in.Evidence.Approvals[i].Environment = env
			}
			d, err := p.Eval(t.Context(), in)
			if err != nil || !d.Allow {
				t.Fatalf("Eval = %+v, %v; want allow", d, err)
			}
			in.Evidence.Provenance = nil
			if d, _ := p.Eval(t.Context(), in); d.Allow {
				t.Errorf("%s allowed an artifact without provenance", env)
			}
		})
	}
	// As shipped, prod is satisfiable by Hallmark's own tools: the fixture
	// (hallmark build's builder ID, no TEE evidence needed) passes.
	t.Run("prod as shipped", func(t *testing.T) {
		p, err := policy.CompilePreset(t.Context(), presets, "prod")
		if err != nil {
			t.Fatal(err)
		}
		d, err := p.Eval(t.Context(), policytest.Input(now))
		if err != nil || !d.Allow {
			t.Errorf("Eval = %+v, %v; want allow", d, err)
		}
	})
	if _, err := policy.CompilePreset(t.Context(), presets, "qa"); !errors.Is(err, policy.ErrPreset) {
		t.Errorf("unknown environment: error = %v, want ErrPreset", err)
	}
}

func TestParsePresetErrors(t *testing.T) {
	valid := "version: 1\nenvironments:\n  dev:\n    rules: [sbom]\n"
	if _, err := policy.ParsePreset([]byte(valid)); err != nil {
		t.Fatalf("minimal preset: %v", err)
	}
	for _, tc := range []struct {
		name, yaml, wantField string
	}{
		{"empty", "", ""},
		{"wrong version", "version: 2\nenvironments: {dev: {rules: [sbom]}}\n", "version"},
		{"no environments", "version: 1\n", "environments"},
		{"unknown top-level field", valid + "extra: 1\n", ""},
		{"unknown parameter", "version: 1\nenvironments: {dev: {rules: [sbom], sbom: {x: 1}}}\n", ""},
		{"no rules", "version: 1\nenvironments: {dev: {rules: []}}\n", "rules"},
		{"unknown rule", "version: 1\nenvironments: {dev: {rules: [sbom, slsa_l4]}}\n", "rules"},
		{"duplicate rule", "version: 1\nenvironments: {dev: {rules: [sbom, sbom]}}\n", "rules"},
		{"bad severity name", "version: 1\nenvironments: {dev: {rules: [secrets], secrets: {failAt: severe}}}\n", ""},
		{"missing threshold", "version: 1\nenvironments: {dev: {rules: [secrets]}}\n", "secrets.failAt"},
		{"unknown severity policy unset", "version: 1\nenvironments: {dev: {rules: [vulns], vulns: {failAt: high, maxScanAgeDays: 1, maxDBAgeDays: 1}}}\n", "vulns.unknownSeverity"},
		{"zero scan age", "version: 1\nenvironments: {dev: {rules: [vulns], vulns: {failAt: high, unknownSeverity: fail, maxDBAgeDays: 1}}}\n", "vulns.maxScanAgeDays"},
		{"k of zero", "version: 1\nenvironments: {dev: {rules: [reproducible]}}\n", "reproducible.minRebuilders"},
		{"m of zero", "version: 1\nenvironments: {dev: {rules: [approvals], approvals: {min: 0}}}\n", "approvals.min"},
		{"L3 without builders", "version: 1\nenvironments: {dev: {rules: [slsa_l3]}}\n", "slsa.builders"},
		{"tee without reference", "version: 1\nenvironments: {dev: {rules: [tee]}}\n", "tee.reference"},
		{"reference not hex", "version: 1\nenvironments: {dev: {rules: [tee], tee: {reference: {tdx: {mr_td: [xyz]}}}}}\n", "tee.reference.tdx.mr_td[0]"},
		{"freshness kind unknown", "version: 1\nenvironments: {dev: {rules: [freshness], freshness: {maxAgeDays: {logs: 3}}}}\n", "freshness.maxAgeDays"},
		{"transparency kind unknown", "version: 1\nenvironments: {dev: {rules: [transparency], transparency: {logged: [logs]}}}\n", "transparency.logged"},
		{"transparency without kinds", "version: 1\nenvironments: {dev: {rules: [transparency]}}\n", "transparency"},
		{"negative skew", "version: 1\nenvironments: {dev: {rules: [freshness], freshness: {clockSkewSeconds: -1}}}\n", "freshness.clockSkewSeconds"},
		{"two documents", valid + "---\n" + valid, ""},
		{"too large", valid + "#" + strings.Repeat("x", policy.MaxPresetSize) + "\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := policy.ParsePreset([]byte(tc.yaml))
			if !errors.Is(err, policy.ErrPreset) {
				t.Fatalf("error = %v, want ErrPreset", err)
			}
			pe, ok := errors.AsType[*policy.PresetError](err)
			if !ok {
				t.Fatalf("error %v is not a *PresetError", err)
			}
			if pe.Field != tc.wantField {
				t.Errorf("Field = %q, want %q (%v)", pe.Field, tc.wantField, err)
			}
		})
	}
}

func TestParsePresetAnchorsAndHex(t *testing.T) {
	p, err := policy.ParsePreset([]byte(`version: 1
environments:
  staging:
    rules: [tee, approvals]
    tee: &tee
      reference: {tdx: {mr_td: [AABB]}}
    approvals: {min: 1}
  prod:
    rules: [tee, approvals]
    tee: *tee
    approvals: {min: 3}
`))
	if err != nil {
		t.Fatal(err)
	}
	prod, _ := p.Params("prod")
	if diff := cmp.Diff(map[string]map[string][]string{"tdx": {"mr_td": {"aabb"}}}, prod.TEE.Reference); diff != "" {
		t.Errorf("reference values (-want +got):\n%s", diff)
	}
	if prod.Approvals.Min != 3 {
		t.Errorf("approvals.min = %d", prod.Approvals.Min)
	}
}
