package policy

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error this package returns wraps one of them.
var (
	// ErrCompile means the policy modules or data could not be parsed or compiled.
	ErrCompile = errors.New("policy does not compile")
	// ErrOption means an option was invalid or contradicted another.
	ErrOption = errors.New("invalid policy option")
	// ErrInput means the input could not be presented to the policy.
	ErrInput = errors.New("invalid policy input")
	// ErrEval means evaluation failed; the accompanying Decision denies.
	ErrEval = errors.New("policy evaluation failed")
	// ErrTimeout means evaluation was cut off by its deadline; the Decision denies.
	ErrTimeout = errors.New("policy evaluation timed out")
	// ErrUndefined means the policy produced no decision; the Decision denies.
	ErrUndefined = errors.New("policy decision undefined")
	// ErrMalformed means the decision did not have the documented shape; the Decision denies.
	ErrMalformed = errors.New("policy decision malformed")
	// ErrPreset means a preset file is invalid.
	ErrPreset = errors.New("invalid policy preset")
	// ErrTest means a test directory could not be loaded or compiled.
	ErrTest = errors.New("policy tests cannot run")
)

// EvalError reports a failed evaluation. Eval returns it together with a
// denying Decision whose violation has RuleID.
type EvalError struct {
	// RuleID is the ID of the fail-closed violation ("policy.error", ...).
	RuleID string
	// Artifact is the digest of the artifact under decision.
	Artifact string
	// Err is the cause; it wraps one of ErrEval, ErrTimeout, ErrUndefined,
	// ErrMalformed or ErrInput.
	Err error
}

func (e *EvalError) Error() string {
	return fmt.Sprintf("policy decision for %s: %v", e.Artifact, e.Err)
}

func (e *EvalError) Unwrap() error { return e.Err }

// PresetError locates a problem in a preset file.
type PresetError struct {
	// Environment is the environment entry at fault, if any.
	Environment string
	// Field is the parameter at fault, e.g. "vulns.failAt".
	Field string
	// Err wraps ErrPreset.
	Err error
}

func (e *PresetError) Error() string {
	switch {
	case e.Environment != "" && e.Field != "":
		return fmt.Sprintf("preset environment %q, %s: %v", e.Environment, e.Field, e.Err)
	case e.Environment != "":
		return fmt.Sprintf("preset environment %q: %v", e.Environment, e.Err)
	}
	return fmt.Sprintf("preset: %v", e.Err)
}

func (e *PresetError) Unwrap() error { return e.Err }
