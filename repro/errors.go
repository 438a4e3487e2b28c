package repro

import (
	"errors"
	"fmt"
)

// ErrInvalid is wrapped by errors about invalid arguments or options.
var ErrInvalid = errors.New("invalid argument")

// BuildError reports a build command that failed.
type BuildError struct {
	// Run names the build ("control", "experiment 1", "bisect [tz]").
	Run string
	// Dir is where the build ran.
	Dir string
	// Err is the failure.
	Err error
	// Output is the tail of the build's combined output.
	Output string
}

func (e *BuildError) Error() string {
	return fmt.Sprintf("build %s in %s: %v\n%s", e.Run, e.Dir, e.Err, e.Output)
}

// Unwrap returns the underlying failure.
func (e *BuildError) Unwrap() error { return e.Err }
