package depcheck

import (
	"errors"
	"fmt"

	"github.com/hallmark-dev/hallmark/internal/limits"
)

// Sentinel errors.
var (
	// ErrPolicy is returned when a policy file cannot be decoded or is
	// inconsistent.
	ErrPolicy = errors.New("depcheck: invalid policy")
	// ErrPattern is returned for a purl pattern that cannot be parsed.
	ErrPattern = errors.New("depcheck: invalid purl pattern")
	// ErrTooLarge is returned when a policy file exceeds MaxPolicySize.
	// It is limits.ErrTooLarge.
	ErrTooLarge = limits.ErrTooLarge
)

// PolicyError locates a problem in a policy file.
type PolicyError struct {
	Field string // e.g. "deny[2].purl"
	Err   error
}

func (e *PolicyError) Error() string { return fmt.Sprintf("depcheck: policy %s: %v", e.Field, e.Err) }

// Unwrap returns the underlying error.
func (e *PolicyError) Unwrap() error { return e.Err }
