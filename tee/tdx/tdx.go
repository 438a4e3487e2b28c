package tdx

import (
	"context"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-tdx-guest/abi"
	"github.com/google/go-tdx-guest/pcs"
	pb "github.com/google/go-tdx-guest/proto/tdx"
	"github.com/google/go-tdx-guest/verify"

	"github.com/hallmark-dev/hallmark/tee"
)

// NoMatchingLevel is the [tee.Claims.TCBStatus] when the collateral lists no
// TCB level matching the quote and the PCK certificate.
const NoMatchingLevel = "NoMatchingLevel"

// Verifier verifies TDX quotes. Build it with [New].
type Verifier struct {
	collateral *Collateral
	accepted   []string
	roots      *x509.CertPool
}

var _ tee.Verifier = (*Verifier)(nil)

// Option configures a [Verifier].
type Option func(*config) error

type config struct {
	collateral        *Collateral
	accepted          []string
	withoutCollateral bool
	roots             *x509.CertPool
}

// WithCollateral gives the verifier cached Intel PCS collateral, so it also
// checks revocation and the TCB status.
func WithCollateral(c Collateral) Option {
	return func(cfg *config) error {
		if err := c.validate(); err != nil {
			return err
		}
		cfg.collateral = &c
		return nil
	}
}

// WithoutCollateralUnsafe verifies the quote and PCK chain only, with no
// revocation and TCB-status check. Claims then carry an empty TCBStatus.
func WithoutCollateralUnsafe() Option {
	return func(cfg *config) error {
		cfg.withoutCollateral = true
		return nil
	}
}

// WithAcceptedTCBStatuses replaces the accepted TCB statuses (default
// "UpToDate"). Intel's values are UpToDate, SWHardeningNeeded,
// ConfigurationNeeded, ConfigurationAndSWHardeningNeeded, OutOfDate,
// OutOfDateConfigurationNeeded and Revoked; this package adds [NoMatchingLevel].
func WithAcceptedTCBStatuses(statuses ...string) Option {
	return func(cfg *config) error {
		if len(statuses) == 0 {
			return errors.New("tdx: WithAcceptedTCBStatuses needs at least one status")
		}
		cfg.accepted = slices.Clone(statuses)
		return nil
	}
}

// WithTrustedRootsUnsafe replaces the Intel SGX root bundled in go-tdx-guest.
// Only for tests with locally made quotes.
func WithTrustedRootsUnsafe(pool *x509.CertPool) Option {
	return func(cfg *config) error {
		cfg.roots = pool
		return nil
	}
}

// New returns a TDX verifier. It needs either [WithCollateral] or the
// explicit [WithoutCollateralUnsafe].
func New(opts ...Option) (*Verifier, error) {
	cfg := config{accepted: []string{string(pcs.TcbComponentStatusUpToDate)}}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.collateral == nil && !cfg.withoutCollateral {
		return nil, errors.New("tdx: no collateral: pass WithCollateral(cached PCS collateral) or WithoutCollateralUnsafe()")
	}
	if cfg.collateral != nil && cfg.withoutCollateral {
		return nil, errors.New("tdx: WithCollateral and WithoutCollateralUnsafe contradict each other; pass one")
	}
	return &Verifier{collateral: cfg.collateral, accepted: cfg.accepted, roots: cfg.roots}, nil
}

// Platform returns tee.TDX.
func (*Verifier) Platform() tee.Platform { return tee.TDX }

func fail(field string, sentinel error, format string, args ...any) error {
	return tee.Errorf(tee.TDX, field, sentinel, format, args...)
}

// ParseQuote decodes a raw TDX v4 quote of at most tee.MaxTDXEvidence bytes.
func ParseQuote(evidence []byte) (*pb.QuoteV4, error) {
	if err := tee.CheckSize(tee.TDX, "quote", len(evidence), tee.MaxTDXEvidence); err != nil {
		return nil, err
	}
	var q any
	if err := tee.Safely(tee.TDX, "quote", func() (err error) {
		q, err = abi.QuoteToProto(evidence)
		return err
	}); err != nil {
		if _, ok := errors.AsType[*tee.Error](err); ok {
			return nil, err
		}
		return nil, fail("quote", tee.ErrMalformed, "%v", err)
	}
	v4, ok := q.(*pb.QuoteV4)
	if !ok {
		return nil, fail("quote.header.version", tee.ErrMalformed, "unsupported quote type %T", q)
	}
	if err := abi.CheckQuoteV4(v4); err != nil {
		return nil, fail("quote", tee.ErrMalformed, "%v", err)
	}
	return v4, nil
}

func timeSet(at time.Time) *verify.TimeSet {
	return &verify.TimeSet{PckCertChain: at, TcbInfo: at, QeIdentity: at, PckCrl: at, RootCaCrl: at}
}

// Verify checks a raw TDX quote and returns its claims.
func (v *Verifier) Verify(ctx context.Context, evidence []byte, opts tee.VerifyOptions) (*tee.Claims, error) {
	if err := opts.Validate(tee.TDX); err != nil {
		return nil, err
	}
	quote, err := ParseQuote(evidence)
	if err != nil {
		return nil, err
	}
	// Step 1: signature, QE report, PCK chain; no collateral.
	if err := tee.Safely(tee.TDX, "quote", func() error {
		return verify.TdxQuoteContext(ctx, quote, &verify.Options{Now: timeSet(opts.Time), TrustedRoots: v.roots})
	}); err != nil {
		if te, ok := errors.AsType[*tee.Error](err); ok {
			return nil, te
		}
		return nil, classify("quote", err)
	}
	chain, err := verify.ExtractChainFromQuote(quote)
	if err != nil {
		return nil, fail("certification_data", tee.ErrChain, "%v", err)
	}
	claims := quoteClaims(quote, chain)
	// Step 2: collateral, revocation and TCB status.
	if v.collateral != nil {
		if err := v.collateral.checkIssued(opts.Time); err != nil {
			return nil, err
		}
		status, err := v.tcbStatus(ctx, quote, opts.Time)
		if err != nil {
			return nil, err
		}
		claims.TCBStatus = status
		if !slices.Contains(v.accepted, status) {
			return nil, fail("tcb_status", tee.ErrTCBStatus, "%q is not among the accepted %q", status, v.accepted)
		}
	}
	if err := tee.CheckClaims(claims, opts); err != nil {
		return nil, err
	}
	return claims, nil
}

const tcbStatusStep = "failed TCB status check"

func (v *Verifier) tcbStatus(ctx context.Context, quote *pb.QuoteV4, at time.Time) (string, error) {
	o := &verify.Options{
		GetCollateral:    true,
		CheckRevocations: true,
		Getter:           cachedGetter{v.collateral},
		Now:              timeSet(at),
		TrustedRoots:     v.roots,
	}
	err := verify.TdxQuoteContext(ctx, quote, o)
	if err == nil {
		return string(pcs.TcbComponentStatusUpToDate), nil
	}
	// Upstream does not export the TCB-status failure; its message is stable
	// across go-tdx-guest releases and is the only signal. Anything else is a
	// real collateral or revocation failure.
	if !strings.Contains(err.Error(), tcbStatusStep) {
		return "", classify("collateral", err)
	}
	level, _, err := verify.SupportedTcbLevelsFromCollateral(quote, o)
	if err != nil {
		if strings.Contains(err.Error(), "no matching TCB level") {
			return NoMatchingLevel, nil
		}
		return "", classify("collateral.tcb_info", err)
	}
	return string(level.TcbStatus), nil
}

// classify maps go-tdx-guest errors onto tee sentinels.
func classify(field string, err error) error {
	msg := err.Error()
	switch {
	case errors.Is(err, verify.ErrHashVerificationFail), strings.Contains(msg, "QE report signature"),
		strings.Contains(msg, "QE report data"):
		return tee.WrapError(tee.TDX, field+".signature", tee.ErrSignature, err)
	case strings.Contains(msg, "expired"), strings.Contains(msg, "not yet valid"):
		return tee.WrapError(tee.TDX, field, tee.ErrExpired, err)
	case strings.Contains(msg, "QuoteV4 invalid"):
		return tee.WrapError(tee.TDX, field, tee.ErrMalformed, err)
	}
	return tee.WrapError(tee.TDX, field, tee.ErrChain, err)
}

// TD attribute bit 0 (TUD.DEBUG) marks a debuggable trust domain.
const tdAttributesDebug = 1

func quoteClaims(q *pb.QuoteV4, chain *verify.PCKCertificateChain) *tee.Claims {
	b := q.GetTdQuoteBody()
	m := map[string]string{
		"mr_td":           hex.EncodeToString(b.GetMrTd()),
		"mr_config_id":    hex.EncodeToString(b.GetMrConfigId()),
		"mr_owner":        hex.EncodeToString(b.GetMrOwner()),
		"mr_owner_config": hex.EncodeToString(b.GetMrOwnerConfig()),
		"mr_seam":         hex.EncodeToString(b.GetMrSeam()),
		"mr_signer_seam":  hex.EncodeToString(b.GetMrSignerSeam()),
	}
	for i, r := range b.GetRtmrs() {
		m["rtmr"+strconv.Itoa(i)] = hex.EncodeToString(r)
	}
	sv := map[string]uint64{}
	for i, s := range b.GetTeeTcbSvn() {
		sv[fmt.Sprintf("tee_tcb_svn_%d", i)] = uint64(s)
	}
	qe := q.GetSignedData().GetCertificationData().GetQeReportCertificationData().GetQeReport()
	sv["qe_svn"] = uint64(binary.LittleEndian.Uint16(pad2(q.GetHeader().GetQeSvn())))
	sv["pce_svn"] = uint64(binary.LittleEndian.Uint16(pad2(q.GetHeader().GetPceSvn())))
	sv["qe_isv_svn"] = uint64(qe.GetIsvSvn())
	attrs := b.GetTdAttributes()
	return &tee.Claims{
		Platform:         tee.TDX,
		Measurements:     m,
		SecurityVersions: sv,
		Debug:            len(attrs) > 0 && attrs[0]&tdAttributesDebug != 0,
		ReportData:       slices.Clone(b.GetReportData()),
		Signer:           tee.SignerFromChain([]*x509.Certificate{chain.PCKCertificate, chain.IntermediateCertificate, chain.RootCertificate}),
		Attributes: map[string]string{
			"td_attributes": hex.EncodeToString(attrs),
			"xfam":          hex.EncodeToString(b.GetXfam()),
		},
	}
}

// pad2 returns b extended with zeros to at least two bytes.
func pad2(b []byte) []byte {
	out := make([]byte, 2)
	copy(out, b)
	return out
}
