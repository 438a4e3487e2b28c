package sevsnp

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-sev-guest/abi"
	"github.com/google/go-sev-guest/kds"
	spb "github.com/google/go-sev-guest/proto/sevsnp"
	"github.com/google/go-sev-guest/validate"
	"github.com/google/go-sev-guest/verify"
	"github.com/google/go-sev-guest/verify/trust"
	"google.golang.org/protobuf/proto"

	"github.com/hallmark-dev/hallmark/tee"
)

// Verifier verifies SEV-SNP evidence. Build it with [New].
type Verifier struct {
	vceks [][]byte
	roots map[string][]*trust.AMDRootCerts
	allow abi.SnpPolicy
	crl   *x509.RevocationList
}

var _ tee.Verifier = (*Verifier)(nil)

// Option configures a [Verifier].
type Option func(*config) error

type config struct {
	vceks [][]byte
	roots map[string][]*trust.AMDRootCerts
	allow abi.SnpPolicy
	crl   *x509.RevocationList
}

// WithCRL caches the product's CRL as served by AMD KDS
// (https://kdsintf.amd.com/vcek/v1/{Milan,Genoa,...}/crl, DER). The
// verifier then checks that the CRL is signed by the ARK, is current at the
// verification time and does not revoke the ASK.
func WithCRL(der []byte) Option {
	return func(c *config) error {
		crl, err := x509.ParseRevocationList(der)
		if err != nil {
			return fmt.Errorf("sevsnp: CRL: %w", err)
		}
		c.crl = crl
		return nil
	}
}

// WithVCEK caches DER VCEK certificates (as served by AMD's KDS) for
// verifying raw reports that do not carry their certificate chain.
func WithVCEK(der ...[]byte) Option {
	return func(c *config) error {
		for i, d := range der {
			if _, err := x509.ParseCertificate(d); err != nil {
				return fmt.Errorf("sevsnp: VCEK %d: %w", i, err)
			}
			c.vceks = append(c.vceks, bytes.Clone(d))
		}
		return nil
	}
}

// WithTrustedRootsUnsafe replaces the AMD roots embedded in go-sev-guest,
// keyed by product line ("Milan", "Genoa", ...). Only for tests with the
// go-sev-guest fake device.
func WithTrustedRootsUnsafe(roots map[string][]*trust.AMDRootCerts) Option {
	return func(c *config) error {
		c.roots = roots
		return nil
	}
}

// WithAllowedGuestPolicy sets the most permissive guest policy accepted
// (go-sev-guest validate semantics); the default allows SMT only. Its Debug
// field is ignored: debug is governed by tee.VerifyOptions.AllowDebugUnsafe.
func WithAllowedGuestPolicy(p abi.SnpPolicy) Option {
	return func(c *config) error {
		c.allow = p
		return nil
	}
}

// New returns an SEV-SNP verifier.
func New(opts ...Option) (*Verifier, error) {
	c := config{allow: abi.SnpPolicy{SMT: true}}
	for _, o := range opts {
		if err := o(&c); err != nil {
			return nil, err
		}
	}
	return &Verifier{vceks: c.vceks, roots: c.roots, allow: c.allow, crl: c.crl}, nil
}

// Platform returns tee.SEVSNP.
func (*Verifier) Platform() tee.Platform { return tee.SEVSNP }

func fail(field string, sentinel error, format string, args ...any) error {
	return tee.Errorf(tee.SEVSNP, field, sentinel, format, args...)
}

// ParseEvidence decodes a raw report (exactly abi.ReportSize bytes) or a
// serialized sevsnp.Attestation of at most tee.MaxSEVSNPEvidence bytes.
func ParseEvidence(evidence []byte) (*spb.Attestation, error) {
	if err := tee.CheckSize(tee.SEVSNP, "evidence", len(evidence), tee.MaxSEVSNPEvidence); err != nil {
		return nil, err
	}
	if len(evidence) == abi.ReportSize {
		r, err := abi.ReportToProto(evidence)
		if err != nil {
			return nil, fail("report", tee.ErrMalformed, "%v", err)
		}
		return &spb.Attestation{Report: r, CertificateChain: &spb.CertificateChain{}}, nil
	}
	var att spb.Attestation
	if err := proto.Unmarshal(evidence, &att); err != nil {
		return nil, fail("attestation", tee.ErrMalformed, "neither a %d-byte report nor an Attestation protobuf: %v", abi.ReportSize, err)
	}
	if att.GetReport() == nil {
		return nil, fail("attestation.report", tee.ErrMalformed, "missing")
	}
	raw, err := abi.ReportToAbiBytes(att.GetReport())
	if err != nil {
		return nil, fail("attestation.report", tee.ErrMalformed, "%v", err)
	}
	if err := abi.ValidateReportFormat(raw); err != nil {
		return nil, fail("attestation.report", tee.ErrMalformed, "%v", err)
	}
	if att.CertificateChain == nil {
		att.CertificateChain = &spb.CertificateChain{}
	}
	return &att, nil
}

// Verify checks SEV-SNP evidence and returns its claims.
func (v *Verifier) Verify(ctx context.Context, evidence []byte, opts tee.VerifyOptions) (*tee.Claims, error) {
	if err := opts.Validate(tee.SEVSNP); err != nil {
		return nil, err
	}
	if v.crl != nil && (opts.Time.Before(v.crl.ThisUpdate) || !opts.Time.Before(v.crl.NextUpdate)) {
		return nil, fail("crl", tee.ErrExpired, "cached CRL is valid from %s to %s", v.crl.ThisUpdate.Format(time.RFC3339), v.crl.NextUpdate.Format(time.RFC3339))
	}
	att, err := ParseEvidence(evidence)
	if err != nil {
		return nil, err
	}
	chain := att.GetCertificateChain()
	if len(chain.GetVcekCert()) > 0 || len(chain.GetVlekCert()) > 0 {
		// The evidence names its endorsement key; it must chain to the roots.
		if err := v.verifyAttestation(ctx, att, opts); err != nil {
			return nil, classify(err)
		}
	} else {
		if len(v.vceks) == 0 {
			return nil, fail("certificate_chain.vcek", tee.ErrChain, "evidence carries no VCEK certificate and the verifier was given none (hallmark tee verify --sev-vcek VCEK.der; sevsnp.WithVCEK in Go)")
		}
		var lastErr error
		for _, vcek := range v.vceks {
			a := proto.Clone(att).(*spb.Attestation)
			a.CertificateChain.VcekCert = vcek
			if lastErr = v.verifyAttestation(ctx, a, opts); lastErr == nil {
				att = a
				break
			}
		}
		if lastErr != nil {
			return nil, classify(lastErr)
		}
	}
	claims, err := reportClaims(att, v.roots)
	if err != nil {
		return nil, err
	}
	if err := tee.CheckClaims(claims, opts); err != nil {
		return nil, err
	}
	allow := v.allow
	allow.Debug = opts.AllowDebugUnsafe
	if err := tee.Safely(tee.SEVSNP, "report", func() error {
		return validate.SnpAttestation(att, &validate.Options{GuestPolicy: allow})
	}); err != nil {
		if te, ok := errors.AsType[*tee.Error](err); ok {
			return nil, te
		}
		return nil, tee.WrapError(tee.SEVSNP, "report", tee.ErrPolicy, err)
	}
	return claims, nil
}

func (v *Verifier) verifyAttestation(ctx context.Context, att *spb.Attestation, opts tee.VerifyOptions) error {
	var inner error
	if err := tee.Safely(tee.SEVSNP, "attestation", func() error {
		o := &verify.Options{
			DisableCertFetching: true,
			Now:                 opts.Time,
			TrustedRoots:        freshRoots(v.roots),
		}
		if v.crl != nil {
			o.CheckRevocations, o.Getter = true, crlGetter{v.crl.Raw}
		}
		inner = verify.SnpAttestationContext(ctx, att, o)
		return nil
	}); err != nil {
		return err
	}
	return inner
}

func classify(err error) error {
	if te, ok := errors.AsType[*tee.Error](err); ok {
		return te
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "report signature verification error"):
		return tee.WrapError(tee.SEVSNP, "signature", tee.ErrSignature, err)
	case strings.Contains(msg, "was revoked"), strings.Contains(msg, "CRL is not signed"), strings.Contains(msg, "could not fetch product CRL"):
		return tee.WrapError(tee.SEVSNP, "crl", tee.ErrChain, err)
	case strings.Contains(msg, "expired or is not yet valid"):
		return tee.WrapError(tee.SEVSNP, "certificate_chain", tee.ErrExpired, err)
	case strings.Contains(msg, "format error"), strings.Contains(msg, "mbz"), strings.Contains(msg, "reserved"):
		return tee.WrapError(tee.SEVSNP, "report", tee.ErrMalformed, err)
	}
	return tee.WrapError(tee.SEVSNP, "certificate_chain", tee.ErrChain, err)
}

func reportClaims(att *spb.Attestation, roots map[string][]*trust.AMDRootCerts) (*tee.Claims, error) {
	r := att.GetReport()
	pol, err := abi.ParseSnpPolicy(r.GetPolicy())
	if err != nil {
		return nil, fail("policy", tee.ErrMalformed, "%v", err)
	}
	info, err := abi.ParseSignerInfo(r.GetSignerInfo())
	if err != nil {
		return nil, fail("signer_info", tee.ErrMalformed, "%v", err)
	}
	ekDER := att.GetCertificateChain().GetVcekCert()
	if info.SigningKey == abi.VlekReportSigner {
		ekDER = att.GetCertificateChain().GetVlekCert()
	}
	vcek, err := x509.ParseCertificate(ekDER)
	if err != nil {
		return nil, fail("certificate_chain", tee.ErrMalformed, "endorsement key certificate: %v", err)
	}
	tcb := kds.DecomposeTCBVersion(kds.TCBVersion(r.GetReportedTcb()))
	product := ""
	if exts, err := kds.CertificateExtensions(vcek, info.SigningKey); err == nil {
		product = exts.ProductName
	}
	certs := []*x509.Certificate{vcek}
	ask, errAsk := x509.ParseCertificate(att.GetCertificateChain().GetAskCert())
	ark, errArk := x509.ParseCertificate(att.GetCertificateChain().GetArkCert())
	if errAsk != nil || errArk != nil {
		// The chain verified against the configured or embedded roots; name those.
		ask, ark = nil, nil
		if p, err := kds.ParseProductName(product, info.SigningKey); err == nil {
			line := kds.ProductLine(p)
			var root *trust.AMDRootCerts
			if rs := roots[line]; len(rs) > 0 {
				root = rs[0]
			} else if r, err := trust.GetDefaultRootCerts(line); err == nil {
				root = r
			}
			if root != nil && root.ProductCerts != nil {
				ask, ark = root.ProductCerts.Ask, root.ProductCerts.Ark
			}
		}
	}
	if ask != nil && ark != nil {
		certs = append(certs, ask, ark)
	}
	signer := tee.SignerFromChain(certs)
	return &tee.Claims{
		Platform: tee.SEVSNP,
		Measurements: map[string]string{
			"measurement":       hex.EncodeToString(r.GetMeasurement()),
			"host_data":         hex.EncodeToString(r.GetHostData()),
			"id_key_digest":     hex.EncodeToString(r.GetIdKeyDigest()),
			"author_key_digest": hex.EncodeToString(r.GetAuthorKeyDigest()),
			"family_id":         hex.EncodeToString(r.GetFamilyId()),
			"image_id":          hex.EncodeToString(r.GetImageId()),
		},
		SecurityVersions: map[string]uint64{
			"guest_svn":      uint64(r.GetGuestSvn()),
			"tcb_bootloader": uint64(tcb.BlSpl),
			"tcb_tee":        uint64(tcb.TeeSpl),
			"tcb_snp":        uint64(tcb.SnpSpl),
			"tcb_microcode":  uint64(tcb.UcodeSpl),
		},
		Debug:      pol.Debug,
		ReportData: bytes.Clone(r.GetReportData()),
		Signer:     signer,
		Attributes: map[string]string{
			"product": product,
			"chip_id": hex.EncodeToString(r.GetChipId()),
			"policy":  "0x" + strconv.FormatUint(r.GetPolicy(), 16),
			"vmpl":    strconv.FormatUint(uint64(r.GetVmpl()), 10),
			"version": strconv.FormatUint(uint64(r.GetVersion()), 10),
			"signer":  info.SigningKey.String(),
		},
	}, nil
}

// crlGetter answers go-sev-guest's CRL requests from the cached CRL and
// refuses every other URL, so revocation checks stay offline.
type crlGetter struct{ der []byte }

// Get implements trust.HTTPSGetter.
func (g crlGetter) Get(url string) ([]byte, error) {
	if strings.HasPrefix(url, "https://kdsintf.amd.com/") && strings.HasSuffix(url, "/crl") {
		return g.der, nil
	}
	return nil, fmt.Errorf("sevsnp: offline verification has no cached response for %s", url)
}

// freshRoots copies configured roots per verification: go-sev-guest caches
// the CRL it checked inside AMDRootCerts, which would otherwise carry one
// verification's CRL into the next.
func freshRoots(roots map[string][]*trust.AMDRootCerts) map[string][]*trust.AMDRootCerts {
	if roots == nil {
		return nil
	}
	out := make(map[string][]*trust.AMDRootCerts, len(roots))
	for line, rs := range roots {
		for _, r := range rs {
			out[line] = append(out[line], &trust.AMDRootCerts{
				Product: r.Product, ProductLine: r.ProductLine, ProductCerts: r.ProductCerts,
				AskSev: r.AskSev, ArkSev: r.ArkSev,
			})
		}
	}
	return out
}
