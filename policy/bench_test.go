package policy_test

import (
	"testing"

	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/policy/policytest"
)

// BenchmarkEval times the built-in prod policy on the realistic input (500
// components, 50 findings, 3 approvals, 2 rebuilds) through Hallmark's Eval
// and, as the baseline, through OPA's rego.EvalInput on the same prepared
// query; bench/policy/run.sh adds OPA's CLI.
func BenchmarkEval(b *testing.B) {
	p := compileProd(b)
	in := policytest.Input(now)
	b.Run("hallmark-Eval", func(b *testing.B) {
		for b.Loop() {
			if d, err := p.Eval(b.Context(), in); err != nil || !d.Allow {
				b.Fatal(d, err)
			}
		}
	})
	b.Run("baseline-opa-EvalInput", func(b *testing.B) {
		for b.Loop() {
			if err := p.EvalBaselineForTest(b.Context(), in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("input-conversion-only", func(b *testing.B) {
		for b.Loop() {
			if _, err := policy.InputJSON(in); err != nil {
				b.Fatal(err)
			}
		}
	})
}
