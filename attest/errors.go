package attest

import (
	"errors"

	"github.com/hallmark-dev/hallmark/internal/limits"
)

// Errors returned by this package, for errors.Is. Each is wrapped in an
// *Error naming the input.
var (
	// ErrTooLarge: the input exceeds its size bound.
	ErrTooLarge = limits.ErrTooLarge
	// ErrMalformed: the input is not well-formed JSON of the expected shape
	// (including duplicate keys and trailing data).
	ErrMalformed = errors.New("malformed")
	// ErrEncoding: a base64 field does not decode.
	ErrEncoding = errors.New("bad base64 encoding")
	// ErrMediaType: the bundle media type is not a supported Sigstore bundle.
	ErrMediaType = errors.New("unsupported bundle media type")
	// ErrPayloadType: the DSSE payload type is not application/vnd.in-toto+json.
	ErrPayloadType = errors.New("wrong payload type")
	// ErrNoSignature: the envelope carries no signature.
	ErrNoSignature = errors.New("no signature")
	// ErrUnknownKey: the signature names a key that is not trusted.
	ErrUnknownKey = errors.New("signed by an untrusted key")
	// ErrSignature: no trusted key verifies the signature (payload or
	// signature altered, or key/algorithm mismatch).
	ErrSignature = errors.New("signature does not verify")
	// ErrThreshold: fewer distinct trusted keys signed than required.
	ErrThreshold = errors.New("not enough distinct trusted signers")
	// ErrStatement: the payload is not a valid in-toto Statement v1.
	ErrStatement = errors.New("invalid in-toto statement")
	// ErrSubjectMismatch: an artifact's digest is not among the subjects.
	ErrSubjectMismatch = errors.New("artifact digest not in statement subjects")
)

// Error reports which input failed and why. Err wraps one of the sentinels.
type Error struct {
	// Input names the input: a file path, "bundle", "envelope", ...
	Input string
	// Err is the cause.
	Err error
}

func (e *Error) Error() string { return e.Input + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }
