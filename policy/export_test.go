package policy

import (
	"context"

	"github.com/open-policy-agent/opa/v1/rego"
)

// EvalBaselineForTest evaluates in through OPA's own input path
// (rego.EvalInput, a JSON round trip) without decision checks: the baseline
// BenchmarkEval compares Eval with.
func (p *Policy) EvalBaselineForTest(ctx context.Context, in Input) error {
	_, err := p.query.Eval(ctx, rego.EvalInput(in), rego.EvalTime(in.Context.Time))
	return err
}
