package oci

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/hallmark-dev/hallmark/internal/limits"
)

// Why a resolution failed. A *ResolveError wraps exactly one of these.
var (
	// ErrInvalidReference is an image reference that does not parse.
	ErrInvalidReference = errors.New("invalid image reference")
	// ErrNotFound is a repository or tag the registry does not know.
	ErrNotFound = errors.New("manifest not found")
	// ErrUnauthorized is a registry refusing the credentials (or their
	// absence).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrTimeout is a resolution that did not finish before its deadline
	// (or whose caller gave up).
	ErrTimeout = errors.New("timed out")
	// ErrUnreachable is a registry that cannot be connected to: DNS, TCP,
	// TLS or HTTP-level failure before any answer.
	ErrUnreachable = errors.New("registry unreachable")
	// ErrRegistry is any other failure of the registry: an unexpected
	// status, a response without a digest, a response over the size limit.
	ErrRegistry = errors.New("registry error")
)

// PlainHTTPError is a registry that answered an HTTPS request in plain
// HTTP and is not listed with WithPlainHTTPInsecure. It wraps
// ErrUnreachable; Registry (host[:port]) is what to list to use it anyway.
type PlainHTTPError struct {
	Registry string
	Err      error
}

func (e *PlainHTTPError) Error() string {
	return fmt.Sprintf("%s: registry %s speaks plain HTTP, which is used only for registries listed as insecure: %v", ErrUnreachable, e.Registry, e.Err)
}

func (e *PlainHTTPError) Unwrap() []error { return []error{ErrUnreachable, e.Err} }

// ResolveError is a failed resolution of one reference.
type ResolveError struct {
	// Ref is the reference as given to Resolve.
	Ref string
	// Err wraps one of the package's sentinel errors and the cause.
	Err error
}

// maxCause bounds the cause quoted in an error message: registries put
// response bodies into their errors.
const maxCause = 512

func (e *ResolveError) Error() string {
	msg := e.Err.Error()
	if len(msg) > maxCause {
		msg = msg[:maxCause] + "..."
	}
	return fmt.Sprintf("resolve %q: %s", e.Ref, msg)
}

func (e *ResolveError) Unwrap() error { return e.Err }

// classify maps an error of a registry request to one of the sentinels.
func classify(err error) error {
	if err == nil {
		return nil
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return ErrTimeout
	case errors.Is(err, limits.ErrTooLarge), errors.Is(err, errScheme):
		return ErrRegistry
	}
	if te, ok := errors.AsType[*transport.Error](err); ok {
		for _, d := range te.Errors {
			switch d.Code {
			case transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode:
				return ErrNotFound
			case transport.UnauthorizedErrorCode, transport.DeniedErrorCode:
				return ErrUnauthorized
			}
		}
		switch te.StatusCode {
		case http.StatusNotFound:
			return ErrNotFound
		case http.StatusUnauthorized, http.StatusForbidden:
			return ErrUnauthorized
		}
		return ErrRegistry
	}
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return ErrTimeout
	}
	if _, ok := errors.AsType[*net.OpError](err); ok {
		return ErrUnreachable
	}
	if _, ok := errors.AsType[*net.DNSError](err); ok {
		return ErrUnreachable
	}
	if _, ok := errors.AsType[*tls.CertificateVerificationError](err); ok {
		return ErrUnreachable
	}
	if _, ok := errors.AsType[tls.RecordHeaderError](err); ok {
		return ErrUnreachable
	}
	if _, ok := errors.AsType[x509.UnknownAuthorityError](err); ok {
		return ErrUnreachable
	}
	if _, ok := errors.AsType[*url.Error](err); ok {
		// The request never got an HTTP answer (connection reset, EOF,
		// protocol error): from the caller's side the registry is not
		// reachable.
		return ErrUnreachable
	}
	return ErrRegistry
}
