package policy_test

import (
	"testing"

	"github.com/hallmark-dev/hallmark/internal/benchcpu"

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
		defer benchcpu.Report(b)()
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
	b.Run("input-value-only", func(b *testing.B) {
		defer benchcpu.Report(b)()
		for b.Loop() {
			if err := policy.InputValueForTest(in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("input-conversion-only", func(b *testing.B) {
		defer benchcpu.Report(b)()
		for b.Loop() {
			if _, err := policy.InputJSON(in); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkEvalAdmission times a small policy on an admission-sized input
// (an approval and nine one-finding scans), where what each call costs
// besides the rules (input conversion, query set-up) weighs most.
func BenchmarkEvalAdmission(b *testing.B) {
	p, err := policy.Compile(b.Context(), []policy.Module{{Name: "policy.rego", Source: []byte(policytest.AdmissionPolicy)}})
	if err != nil {
		b.Fatal(err)
	}
	full := policytest.Sized(now, policytest.Options{Components: 1, Findings: 1, Approvals: 1})
	in := policy.Input{Artifact: full.Artifact, Context: full.Context}
	in.Evidence.Approvals = full.Evidence.Approvals
	for range 9 {
		in.Evidence.Vulns = append(in.Evidence.Vulns, full.Evidence.Vulns[0])
	}
	in.Evidence.Approvals[0].Artifact = in.Artifact.Digest.String()
	b.Run("eval", func(b *testing.B) {
		defer benchcpu.Report(b)()
		for b.Loop() {
			if d, err := p.Eval(b.Context(), in); err != nil || !d.Allow {
				b.Fatal(d, err)
			}
		}
	})
	b.Run("input-value-only", func(b *testing.B) {
		defer benchcpu.Report(b)()
		for b.Loop() {
			if err := policy.InputValueForTest(in); err != nil {
				b.Fatal(err)
			}
		}
	})
}
