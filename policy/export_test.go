package policy

import (
	"context"
	"reflect"

	"github.com/open-policy-agent/opa/v1/rego"
)

// EvalBaselineForTest evaluates in through OPA's own input path
// (rego.EvalInput, a JSON round trip) without decision checks: the baseline
// BenchmarkEval compares Eval with.
func (p *Policy) EvalBaselineForTest(ctx context.Context, in Input) error {
	_, err := p.query.Eval(ctx, rego.EvalInput(in), rego.EvalTime(in.Context.Time))
	return err
}

// InputValueForTest converts in to the Rego value Eval passes to OPA.
func InputValueForTest(in Input) error {
	_, err := toValue(reflect.ValueOf(in))
	return err
}
