// Package limits holds the bounds Hallmark puts on untrusted input, in one
// place so that every decoder enforces the same numbers and the README can
// list them. It is also the one place that opens files whose path comes
// from a user or a build ([OpenFile], [OpenFileIn], [OpenRoot],
// [StatFileOrDir], [ReadFile]): a FIFO or device is refused with
// [ErrNotRegular] without ever being opened in blocking mode.
package limits

import (
	"errors"
	"fmt"
	"io"
)

// Bounds on evidence. A Sigstore bundle carrying a large SBOM predicate is a
// few MiB; anything near these limits is an attack or a mistake.
const (
	// MaxBundleBytes bounds a Sigstore bundle or DSSE envelope file.
	MaxBundleBytes = 32 << 20
	// MaxStatementBytes bounds the in-toto Statement inside an envelope.
	MaxStatementBytes = 24 << 20
	// MaxPredicateFileBytes bounds a predicate file given to `hallmark attest`.
	MaxPredicateFileBytes = 16 << 20
	// MaxSubjects bounds the subjects of one statement.
	MaxSubjects = 100_000
	// MaxSignatures bounds the signatures of one envelope.
	MaxSignatures = 64
	// MaxJSONDepth bounds the nesting depth of any JSON document we parse.
	MaxJSONDepth = 128
)

// ErrTooLarge is returned when an input exceeds its bound. It is the one
// too-large sentinel: packages re-export it under their own name
// (attest.ErrTooLarge, osv.ErrTooLarge, ...) and name the input and the
// bound in the wrapping message, so errors.Is(err, ErrTooLarge) holds for
// every oversized input whichever package refused it.
var ErrTooLarge = errors.New("input too large")

// NewTooLarge returns a package's own sentinel for a bound its callers may
// want to tell apart from the others (a count of records, an import
// source): it reads as msg, and errors.Is matches both it and
// [ErrTooLarge].
func NewTooLarge(msg string) error { return &tooLarge{msg: msg} }

type tooLarge struct{ msg string }

func (e *tooLarge) Error() string { return e.msg }
func (e *tooLarge) Unwrap() error { return ErrTooLarge }

// ReadAll reads r to the end, failing with ErrTooLarge once more than max
// bytes have been seen (it never holds more than max+1). what names the
// input in the error. This is the one bounded reader; [ReadFile],
// [ReadFileIn] and [ReadFileFS] are its file variants.
func ReadAll(r io.Reader, max int64, what string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: %w (more than %d bytes)", what, ErrTooLarge, max)
	}
	return b, nil
}
