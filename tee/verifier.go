package tee

import (
	"bytes"
	"context"
	"crypto/subtle"
	"fmt"
	"time"
)

// Verifier checks one platform's evidence: its signature, its certificate
// chain up to the vendor root (offline, at opts.Time), the expectations in
// opts, and returns the normalised claims.
type Verifier interface {
	// Platform names the evidence format this verifier accepts.
	Platform() Platform
	// Verify checks evidence and returns its claims, or an [*Error].
	Verify(ctx context.Context, evidence []byte, opts VerifyOptions) (*Claims, error)
}

// Collector obtains fresh evidence from the TEE it runs in, with reportData
// (usually a [Binding]'s [Binding.ReportData]) signed into the quote as
// [QuotedReportData] says (tpm quotes carry its SHA-256).
type Collector interface {
	// Platform names the evidence format this collector produces.
	Platform() Platform
	// Collect returns evidence that its platform's [Verifier] accepts.
	Collect(ctx context.Context, reportData [ReportDataSize]byte) ([]byte, error)
}

// VerifyOptions are the expectations a verification checks besides the
// signature and chain.
type VerifyOptions struct {
	// Time is the instant at which certificates and collateral must be valid.
	// Required: verifiers never read the clock.
	Time time.Time
	// Nonce, if set, must equal the evidence's nonce field (tpm, nitro). For
	// tpm it is required, as the quote check needs it.
	Nonce []byte
	// ReportData, if set, must equal the evidence's report data (see
	// [Claims.ReportData]).
	ReportData []byte
	// ReferenceValues, if set, must list the claims' measurements (see
	// [ReferenceValues.Match]).
	ReferenceValues *ReferenceValues
	// AllowDebugUnsafe accepts debug guests and enclaves, whose memory the
	// host can read. Only for tests and development.
	AllowDebugUnsafe bool
}

// Validate reports options that cannot be used.
func (o VerifyOptions) Validate(p Platform) error {
	if o.Time.IsZero() {
		return Errorf(p, "time", ErrOptions, "verification time is required")
	}
	return nil
}

// CheckClaims applies the expectations of opts that do not depend on the
// platform (debug, nonce, report data, reference values) to claims a platform
// verifier extracted. Every [Verifier] calls it last.
func CheckClaims(c *Claims, opts VerifyOptions) error {
	if c.Debug && !opts.AllowDebugUnsafe {
		return Errorf(c.Platform, "debug", ErrDebug, "evidence comes from a debug guest or enclave")
	}
	if opts.Nonce != nil {
		if c.Nonce == nil {
			return Errorf(c.Platform, "nonce", ErrNonce, "evidence has no nonce field; compare report data instead")
		}
		if subtle.ConstantTimeCompare(c.Nonce, opts.Nonce) != 1 {
			return Errorf(c.Platform, "nonce", ErrNonce, "got %s, want %s", short(c.Nonce), short(opts.Nonce))
		}
	}
	if opts.ReportData != nil && !bytes.Equal(c.ReportData, opts.ReportData) {
		return Errorf(c.Platform, "report_data", ErrReportData, "got %s, want %s", short(c.ReportData), short(opts.ReportData))
	}
	if opts.ReferenceValues != nil {
		if err := opts.ReferenceValues.Match(c); err != nil {
			return err
		}
	}
	return nil
}

// Registry maps platforms to verifiers. Build it in the composition root
// with [NewRegistry]; there is no global registry.
type Registry struct {
	verifiers map[Platform]Verifier
}

// NewRegistry returns a registry of the given verifiers; two verifiers for
// one platform are an error.
func NewRegistry(verifiers ...Verifier) (*Registry, error) {
	r := &Registry{verifiers: make(map[Platform]Verifier, len(verifiers))}
	for _, v := range verifiers {
		if v == nil {
			return nil, fmt.Errorf("tee: nil verifier")
		}
		p := v.Platform()
		if _, dup := r.verifiers[p]; dup {
			return nil, fmt.Errorf("tee: two verifiers for platform %s", p)
		}
		r.verifiers[p] = v
	}
	return r, nil
}

// Verifier returns the verifier for p, or an error wrapping ErrUnknownPlatform.
func (r *Registry) Verifier(p Platform) (Verifier, error) {
	v, ok := r.verifiers[p]
	if !ok {
		return nil, &Error{Platform: p, Err: fmt.Errorf("%w: no verifier registered", ErrUnknownPlatform)}
	}
	return v, nil
}

// Verify verifies evidence with the verifier for p.
func (r *Registry) Verify(ctx context.Context, p Platform, evidence []byte, opts VerifyOptions) (*Claims, error) {
	v, err := r.Verifier(p)
	if err != nil {
		return nil, err
	}
	return v.Verify(ctx, evidence, opts)
}

// short renders b as hex, eliding the middle of long values so errors stay readable.
func short(b []byte) string {
	const keep = 16
	if len(b) <= 2*keep {
		return fmt.Sprintf("%x", b)
	}
	return fmt.Sprintf("%x…%x (%d bytes)", b[:keep], b[len(b)-keep:], len(b))
}
