package policy_test

import (
	"testing"

	"github.com/hallmark-dev/hallmark/policy"
)

// FuzzParsePreset: any bytes either fail with a *PresetError or yield a
// preset whose every environment is usable as policy parameters.
func FuzzParsePreset(f *testing.F) {
	f.Add(policy.BuiltinPresetsYAML())
	f.Add([]byte("version: 1\nenvironments:\n  dev:\n    rules: [sbom]\n"))
	f.Add([]byte("version: 1\nenvironments: {a: &x {rules: [tee], tee: {reference: {tdx: {m: [AB]}}}}, b: *x}\n"))
	f.Add([]byte("version: 1\nenvironments: {dev: {rules: [vulns], vulns: {failAt: moderate, unknownSeverity: fail, maxScanAgeDays: 1, maxDBAgeDays: 1}}}\n"))
	f.Add([]byte("a: &a [*a]"))
	f.Add([]byte("version: 1\nenvironments: {dev: {rules: [freshness], freshness: {maxAgeDays: {sbom: 9999999999999999999}}}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := policy.ParsePreset(data)
		if err != nil {
			if _, ok := err.(*policy.PresetError); !ok {
				t.Fatalf("error %T %v is not a *PresetError", err, err)
			}
			return
		}
		for _, env := range p.EnvironmentNames() {
			params, err := p.Params(env)
			if err != nil {
				t.Fatalf("Params(%q): %v", env, err)
			}
			if len(params.Rules) == 0 {
				t.Fatalf("environment %q validated with no rules", env)
			}
			if err := policy.CheckParams(params); err != nil {
				t.Fatalf("environment %q validated but its parameters do not: %v", env, err)
			}
		}
	})
}
