package cli

import (
	"errors"
	"io/fs"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/internal/limits"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/tlog"
)

// Exit codes. They are listed in the README; keep the two in step.
const (
	// ExitOK: the command did what was asked; a check passed.
	ExitOK = 0
	// ExitRejected: a check ran and said no: a signature or subject did not
	// verify, a key is not trusted, the gate denied, findings reached
	// --fail-on, or builds were not reproducible.
	ExitRejected = 1
	// ExitUsage: the command line is wrong.
	ExitUsage = 2
	// ExitBadInput: an input could not be read or is malformed, too large or
	// of the wrong format (bad JSON, bad base64, wrong media type, bad key).
	ExitBadInput = 3
	// ExitEnvironment: something around the input failed: the evidence
	// store, the file system, a missing passphrase, an unavailable sandbox.
	ExitEnvironment = 4
)

// exitError carries an explicit exit code.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageError(err error) error     { return &exitError{code: ExitUsage, err: err} }
func rejected(err error) error       { return &exitError{code: ExitRejected, err: err} }
func badInput(err error) error       { return &exitError{code: ExitBadInput, err: err} }
func storeError(err error) error     { return &exitError{code: ExitEnvironment, err: err} }
func environmentErr(err error) error { return &exitError{code: ExitEnvironment, err: err} }

// exitCode maps an error to the documented exit code.
func exitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	if e, ok := errors.AsType[*exitError](err); ok {
		return e.code
	}
	switch {
	case errors.Is(err, attest.ErrSignature), errors.Is(err, attest.ErrUnknownKey),
		errors.Is(err, attest.ErrThreshold), errors.Is(err, attest.ErrSubjectMismatch),
		errors.Is(err, attest.ErrPayloadType), errors.Is(err, attest.ErrTransparency):
		return ExitRejected
	case errors.Is(err, attest.ErrMalformed), errors.Is(err, attest.ErrEncoding),
		errors.Is(err, limits.ErrTooLarge), errors.Is(err, limits.ErrNotRegular), errors.Is(err, attest.ErrMediaType),
		errors.Is(err, attest.ErrNoSignature), errors.Is(err, attest.ErrStatement),
		errors.Is(err, keys.ErrNotPEM), errors.Is(err, keys.ErrUnsupportedKey),
		errors.Is(err, keys.ErrWrongPassphrase), errors.Is(err, fs.ErrNotExist),
		errors.Is(err, tlog.ErrTrustedRoot):
		return ExitBadInput
	case errors.Is(err, errNoPassphrase):
		return ExitEnvironment
	}
	return ExitEnvironment
}
