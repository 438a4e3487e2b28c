package tee

import (
	"errors"
	"fmt"

	"github.com/hallmark-dev/hallmark/internal/limits"
)

// Sentinel errors wrapped by every [*Error]; test them with errors.Is.
var (
	// ErrMalformed reports evidence that does not decode.
	ErrMalformed = errors.New("malformed evidence")
	// ErrTooLarge reports an input above its size limit.
	// It is limits.ErrTooLarge.
	ErrTooLarge = limits.ErrTooLarge
	// ErrSignature reports a signature that does not verify.
	ErrSignature = errors.New("signature does not verify")
	// ErrChain reports a certificate chain that does not reach the pinned vendor root.
	ErrChain = errors.New("certificate chain not trusted")
	// ErrExpired reports a certificate or collateral outside its validity window at the verification time.
	ErrExpired = errors.New("certificate or collateral expired or not yet valid")
	// ErrDebug reports a debug-mode guest or enclave when debug is not allowed.
	ErrDebug = errors.New("debug mode not allowed")
	// ErrNonce reports a nonce that differs from the expected one.
	ErrNonce = errors.New("nonce mismatch")
	// ErrReportData reports report data or user data that differs from the expected value.
	ErrReportData = errors.New("report data mismatch")
	// ErrMeasurement reports a measurement missing from or not listed in the reference values.
	ErrMeasurement = errors.New("measurement does not match reference values")
	// ErrSecurityVersion reports a security version below the reference minimum.
	ErrSecurityVersion = errors.New("security version below minimum")
	// ErrPolicy reports evidence that violates the platform's guest policy
	// (for example SEV-SNP TCB or firmware consistency).
	ErrPolicy = errors.New("evidence violates platform policy")
	// ErrTCBStatus reports a TCB status the verifier was not told to accept.
	ErrTCBStatus = errors.New("TCB status not accepted")
	// ErrBinding reports a quote whose report data does not bind the given provenance.
	ErrBinding = errors.New("quote does not bind the provenance")
	// ErrUnknownPlatform reports a platform with no verifier.
	ErrUnknownPlatform = errors.New("unknown TEE platform")
	// ErrOptions reports invalid verification options (for example a zero time).
	ErrOptions = errors.New("invalid verification options")
	// ErrReferenceValues reports an invalid reference-values document.
	ErrReferenceValues = errors.New("invalid reference values")
)

// Error is the error every verifier returns: which platform, which field of
// the evidence (or option) and what went wrong. Err wraps one of the sentinel
// errors above.
type Error struct {
	// Platform is the evidence platform, empty when not yet known.
	Platform Platform
	// Field names the evidence field or option at fault, e.g. "report_data",
	// "certificate_chain", "pcrs[0]".
	Field string
	// Err is the underlying problem, wrapping a sentinel error.
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	p := string(e.Platform)
	if p == "" {
		p = "tee"
	}
	if e.Field == "" {
		return fmt.Sprintf("%s: %v", p, e.Err)
	}
	return fmt.Sprintf("%s: %s: %v", p, e.Field, e.Err)
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an [*Error] whose Err wraps sentinel with a formatted detail.
// Platform verifiers use it so that every error carries the same context.
func Errorf(p Platform, field string, sentinel error, format string, args ...any) *Error {
	detail := fmt.Sprintf(format, args...)
	if detail == "" {
		return &Error{Platform: p, Field: field, Err: sentinel}
	}
	return &Error{Platform: p, Field: field, Err: fmt.Errorf("%w: %s", sentinel, detail)}
}

// WrapError builds an [*Error] whose Err wraps both sentinel and cause, so
// errors.Is finds the sentinel and the library's own error stays inspectable.
func WrapError(p Platform, field string, sentinel, cause error) *Error {
	return &Error{Platform: p, Field: field, Err: fmt.Errorf("%w: %w", sentinel, cause)}
}

// Safely runs fn, a call into a third-party evidence parser or verifier, and
// turns a panic inside it into an [*Error] wrapping ErrMalformed, so that
// hostile evidence cannot crash the process. (go-tdx-guest's quote parser,
// for one, indexes by length fields it has not checked.)
func Safely(p Platform, field string, fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = Errorf(p, field, ErrMalformed, "parser failed on malformed input: %v", r)
		}
	}()
	return fn()
}
