package attested

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/build"
	"github.com/hallmark-dev/hallmark/provenance"
	"github.com/hallmark-dev/hallmark/redact"
	"github.com/hallmark-dev/hallmark/tee"
)

// ErrNoTEE means no TEE of the platforms asked for could be opened here.
var ErrNoTEE = errors.New("no TEE available")

// Recorder signs a statement, verifies the bundle it made and stores it,
// returning the verified bundle, its bytes and the stored record's ID.
type Recorder func(ctx context.Context, st *intoto.Statement) (*attest.Verified, []byte, string, error)

// Opener opens the collector and verifier of a TEE platform on this
// machine.
type Opener func(ctx context.Context, p tee.Platform) (tee.Collector, tee.Verifier, error)

// TEE asks for a quote bound to the provenance.
type TEE struct {
	// Platforms are tried in order; the first that opens is used.
	Platforms []tee.Platform
	// Optional records nothing, instead of failing with ErrNoTEE, when
	// none of them opens.
	Optional bool
	// Open opens a platform.
	Open Opener
}

// Spec is an attested build.
type Spec struct {
	// Build is the build to run. Its IsSecret, when nil, is
	// build.DefaultIsSecret combined with the credential detector of
	// redact: a variable either calls a secret is never recorded.
	Build build.Spec
	// BuilderID and LogName go into the provenance.
	BuilderID string
	LogName   string
	// Record signs and stores; nil leaves the provenance unsigned (and
	// then TEE must be nil).
	Record Recorder
	// TEE, when not nil, binds a quote to the signed provenance.
	TEE *TEE
	// Now is the clock of the quote's verification (default time.Now).
	Now func() time.Time
}

// Result is what Run built and recorded.
type Result struct {
	// Build is the build's result.
	Build *build.Result
	// Provenance is the provenance statement.
	Provenance *intoto.Statement
	// Bundle and RecordID are the signed provenance and its stored record,
	// when Spec.Record was given.
	Bundle   []byte
	RecordID string
	// TEE is the bound quote, nil when none was recorded.
	TEE *TEEResult
	// NoTEE says why no quote was recorded when TEE was optional.
	NoTEE error
}

// TEEResult is a quote bound to the provenance, signed and stored.
type TEEResult struct {
	Predicate *tee.Predicate
	Bundle    []byte
	RecordID  string
	// Collector made the quote (it may name its attestation key).
	Collector tee.Collector
}

// Run runs the build, writes its provenance, records it and binds a TEE
// quote to it. Build errors are build.Run's; a build without products
// fails with build.ErrNoProducts.
func Run(ctx context.Context, s Spec) (*Result, error) {
	if s.TEE != nil && s.Record == nil {
		return nil, fmt.Errorf("%w: a TEE attestation is signed next to the provenance: give a recorder", build.ErrSpec)
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Build.IsSecret == nil {
		red, err := redact.New()
		if err != nil {
			return nil, fmt.Errorf("load redaction rules: %w", err)
		}
		// A variable is never recorded when either the build's own
		// name/shape rules or the shared credential detector say it is a
		// secret.
		s.Build.IsSecret = func(name, value string) bool {
			return build.DefaultIsSecret(name, value) || red.EnvMap(map[string]string{name: value})[name] != value
		}
	}
	br, err := build.Run(ctx, s.Build)
	if err != nil {
		return nil, err
	}
	if len(br.Products) == 0 {
		return nil, fmt.Errorf("%w: the build produced no products: name them with --products or --output-dir", build.ErrNoProducts)
	}
	st, err := provenance.Statement(br.Facts(s.BuilderID, s.LogName))
	if err != nil {
		return nil, err
	}
	res := &Result{Build: br, Provenance: st}
	if s.Record == nil {
		return res, nil
	}
	prov, bundle, id, err := s.Record(ctx, st)
	if err != nil {
		return res, err
	}
	res.Bundle, res.RecordID = bundle, id
	if s.TEE == nil {
		return res, nil
	}
	res.TEE, err = bindTEE(ctx, s, prov)
	if errors.Is(err, ErrNoTEE) && s.TEE.Optional {
		res.NoTEE = err
		return res, nil
	}
	return res, err
}

// bindTEE quotes the machine's TEE with report data binding the
// provenance's DSSE pre-authentication encoding, and records the TEE
// attestation with the provenance's subjects.
func bindTEE(ctx context.Context, s Spec, prov *attest.Verified) (*TEEResult, error) {
	var c tee.Collector
	var ver tee.Verifier
	err := fmt.Errorf("%w: no platform asked for", ErrNoTEE)
	for _, p := range s.TEE.Platforms {
		if c, ver, err = s.TEE.Open(ctx, p); err == nil {
			break
		}
		err = fmt.Errorf("%w: %w", ErrNoTEE, err)
	}
	if c == nil {
		return nil, err
	}
	// Debug guests are attested as such (claims.debug); policy decides.
	pred, err := tee.Attest(ctx, c, ver, prov.PAE(), tee.VerifyOptions{Time: s.Now(), AllowDebugUnsafe: true})
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(pred)
	if err != nil {
		return nil, err
	}
	st, err := attest.NewStatement(prov.Subjects(), tee.PredicateType, b)
	if err != nil {
		return nil, err
	}
	_, bundle, id, err := s.Record(ctx, st)
	if err != nil {
		return nil, err
	}
	return &TEEResult{Predicate: pred, Bundle: bundle, RecordID: id, Collector: c}, nil
}
