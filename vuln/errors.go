package vuln

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. A Scan that cannot stand behind its result returns an
// *IncompleteError that matches ErrIncomplete and each problem's sentinel.
var (
	// ErrIncomplete means the report may miss vulnerabilities.
	ErrIncomplete = errors.New("vulnerability scan incomplete")
	// ErrDBEmpty means the database holds no records at all.
	ErrDBEmpty = errors.New("vulnerability database is empty")
	// ErrDBUnreadable means records could not be read back.
	ErrDBUnreadable = errors.New("vulnerability database is unreadable")
	// ErrDBStale means an ecosystem's data was imported longer ago than
	// the allowed age.
	ErrDBStale = errors.New("vulnerability database is stale")
	// ErrNoEcosystemData means the inventory has packages of an ecosystem
	// the database holds no records for.
	ErrNoEcosystemData = errors.New("no vulnerability data for ecosystem")
	// ErrNoPackages means the inventory is empty: nothing was checked.
	ErrNoPackages = errors.New("inventory is empty")
	// ErrUnevaluable means some package/record pairs could not be decided
	// (unknown ecosystem, unparsable version, GIT range without commit).
	ErrUnevaluable = errors.New("some packages could not be evaluated")
	// ErrBadOption means a Scanner option is invalid.
	ErrBadOption = errors.New("invalid scanner option")
)

// Problem is one reason a scan is incomplete.
type Problem struct {
	// Err is one of the sentinel errors above.
	Err error `json:"-"`
	// Kind is Err's message, for JSON output.
	Kind string `json:"kind"`
	// Ecosystem is set when the problem concerns one ecosystem.
	Ecosystem string `json:"ecosystem,omitempty"`
	// Detail says what exactly is wrong.
	Detail string `json:"detail"`
}

func newProblem(err error, eco, format string, args ...any) Problem {
	return Problem{Err: err, Kind: err.Error(), Ecosystem: eco, Detail: fmt.Sprintf(format, args...)}
}

// IncompleteError lists why a scan's report may miss vulnerabilities.
type IncompleteError struct {
	Problems []Problem
}

func (e *IncompleteError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Kind + ": " + p.Detail
	}
	return "vuln: scan incomplete, refusing to report a clean result: " + strings.Join(parts, "; ")
}

// Unwrap lets errors.Is match ErrIncomplete and each problem's sentinel.
func (e *IncompleteError) Unwrap() []error {
	errs := []error{ErrIncomplete}
	for _, p := range e.Problems {
		errs = append(errs, p.Err)
	}
	return errs
}
