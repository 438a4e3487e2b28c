package tpm

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	attestpb "github.com/google/go-tpm-tools/proto/attest"
	"github.com/google/go-tpm-tools/server"
	"github.com/google/go-tpm/legacy/tpm2"
	"google.golang.org/protobuf/proto"

	"github.com/hallmark-dev/hallmark/tee"
)

// Verifier verifies TPM attestations. Build it with [New].
type Verifier struct {
	roots, intermediates []*x509.Certificate
	aks                  []crypto.PublicKey
	bank                 tpm2.Algorithm
}

var _ tee.Verifier = (*Verifier)(nil)

// Option configures a [Verifier].
type Option func(*config) error

type config struct {
	roots, intermediates []*x509.Certificate
	rootsSet             bool
	aks                  []crypto.PublicKey
	bank                 tpm2.Algorithm
}

// WithTrustedRoots replaces the default GCE EK/AK roots with roots (and
// intermediates) that AK certificates must chain to.
func WithTrustedRoots(roots, intermediates []*x509.Certificate) Option {
	return func(c *config) error {
		if len(roots) == 0 {
			return errors.New("tpm: WithTrustedRoots needs at least one root")
		}
		c.roots, c.intermediates, c.rootsSet = roots, intermediates, true
		return nil
	}
}

// WithTrustedAKs trusts exactly these AK public keys (for example AKs
// enrolled out of band) instead of AK certificates.
func WithTrustedAKs(keys ...crypto.PublicKey) Option {
	return func(c *config) error {
		if len(keys) == 0 {
			return errors.New("tpm: WithTrustedAKs needs at least one key")
		}
		c.aks = keys
		return nil
	}
}

// WithPCRBank selects the PCR bank whose quote is verified (SHA256, SHA384
// or SHA512; default SHA256).
func WithPCRBank(alg tpm2.Algorithm) Option {
	return func(c *config) error {
		switch alg {
		case tpm2.AlgSHA256, tpm2.AlgSHA384, tpm2.AlgSHA512:
			c.bank = alg
			return nil
		}
		return fmt.Errorf("tpm: PCR bank %v not supported (SHA-1 banks are refused)", alg)
	}
}

// New returns a TPM verifier trusting the GCE EK/AK roots unless configured otherwise.
func New(opts ...Option) (*Verifier, error) {
	c := config{bank: tpm2.AlgSHA256}
	for _, o := range opts {
		if err := o(&c); err != nil {
			return nil, err
		}
	}
	if c.rootsSet && len(c.aks) > 0 {
		return nil, errors.New("tpm: WithTrustedRoots and WithTrustedAKs are two trust mechanisms; pass one")
	}
	if !c.rootsSet && len(c.aks) == 0 {
		c.roots, c.intermediates = server.GceEKRoots, server.GceEKIntermediates
	}
	return &Verifier{roots: c.roots, intermediates: c.intermediates, aks: c.aks, bank: c.bank}, nil
}

// Platform returns tee.TPM.
func (*Verifier) Platform() tee.Platform { return tee.TPM }

func fail(field string, sentinel error, format string, args ...any) error {
	return tee.Errorf(tee.TPM, field, sentinel, format, args...)
}

// ParseAttestation decodes an attest.Attestation protobuf of at most
// tee.MaxTPMEvidence bytes.
func ParseAttestation(evidence []byte) (*attestpb.Attestation, error) {
	if err := tee.CheckSize(tee.TPM, "attestation", len(evidence), tee.MaxTPMEvidence); err != nil {
		return nil, err
	}
	var att attestpb.Attestation
	if err := proto.Unmarshal(evidence, &att); err != nil {
		return nil, fail("attestation", tee.ErrMalformed, "%v", err)
	}
	if len(att.GetQuotes()) == 0 {
		return nil, fail("quotes", tee.ErrMalformed, "no quotes")
	}
	if len(att.GetAkPub()) == 0 {
		return nil, fail("ak_pub", tee.ErrMalformed, "missing")
	}
	return &att, nil
}

// oidSubjectAltName is accepted as a handled critical extension on AK
// certificates, as go-tpm-tools does (GCE AK certificates mark it critical
// with TPM-specific names Go does not parse).
var oidSubjectAltName = asn1.ObjectIdentifier{2, 5, 29, 17}

// Verify checks a TPM attestation and returns its claims. opts.Nonce is required.
func (v *Verifier) Verify(ctx context.Context, evidence []byte, opts tee.VerifyOptions) (*tee.Claims, error) {
	if err := opts.Validate(tee.TPM); err != nil {
		return nil, err
	}
	if len(opts.Nonce) == 0 {
		return nil, fail("nonce", tee.ErrOptions, "a TPM quote is verified against the nonce it was made with; none given")
	}
	att, err := ParseAttestation(evidence)
	if err != nil {
		return nil, err
	}
	claims := &tee.Claims{Platform: tee.TPM, Attributes: map[string]string{"pcr_bank": strings.ToLower(v.bank.String())}}
	aks := v.aks
	if len(aks) == 0 {
		cert, chain, err := v.verifyAKCert(att, opts)
		if err != nil {
			return nil, err
		}
		aks = []crypto.PublicKey{cert.PublicKey}
		claims.Signer = tee.SignerFromChain(chain)
		if info, err := server.GetGCEInstanceInfo(cert); err == nil && info != nil {
			claims.Attributes["gce_project_id"] = info.GetProjectId()
			claims.Attributes["gce_zone"] = info.GetZone()
			claims.Attributes["gce_instance_name"] = info.GetInstanceName()
			claims.Attributes["gce_instance_id"] = strconv.FormatUint(info.GetInstanceId(), 10)
		}
	} else {
		claims.Signer = tee.Signer{Chain: []string{"pinned AK"}}
	}
	// The AK is trusted (by certificate at opts.Time, or pinned): hand
	// go-tpm-tools the key itself so it never consults the wall clock.
	verified := proto.Clone(att).(*attestpb.Attestation)
	verified.AkCert, verified.IntermediateCerts = nil, nil
	var ms *attestpb.MachineState
	if err := tee.Safely(tee.TPM, "attestation", func() (err error) {
		ms, err = server.VerifyAttestation(verified, server.VerifyOpts{
			Nonce:      opts.Nonce,
			TrustedAKs: aks,
			HashAlgo:   v.bank,
			Loader:     server.UnsupportedLoader,
		})
		return err
	}); err != nil {
		if te, ok := errors.AsType[*tee.Error](err); ok {
			return nil, te
		}
		return nil, classify(err)
	}
	for _, q := range att.GetQuotes() {
		if tpm2.Algorithm(q.GetPcrs().GetHash()) != v.bank {
			continue
		}
		claims.Measurements = make(map[string]string, len(q.GetPcrs().GetPcrs()))
		for idx, val := range q.GetPcrs().GetPcrs() {
			claims.Measurements["pcr"+strconv.FormatUint(uint64(idx), 10)] = hex.EncodeToString(val)
		}
		break
	}
	claims.ReportData = bytes.Clone(opts.Nonce)
	claims.Nonce = bytes.Clone(opts.Nonce)
	// Facts from the replayed event log (go-tpm-tools' MachineState).
	if sb := ms.GetSecureBoot(); sb != nil {
		claims.Attributes["secure_boot"] = strconv.FormatBool(sb.GetEnabled())
	}
	if pl := ms.GetPlatform(); pl != nil {
		if id := pl.GetScrtmVersionId(); len(id) > 0 {
			claims.Attributes["scrtm_version_id"] = hex.EncodeToString(id)
		}
		if t := pl.GetTechnology(); t != 0 {
			claims.Attributes["confidential_technology"] = t.String()
		}
	}
	if cmd := ms.GetLinuxKernel().GetCommandLine(); cmd != "" {
		claims.Attributes["kernel_cmdline"] = cmd
	}
	claims.Attributes["event_log_events"] = strconv.Itoa(len(ms.GetRawEvents()))
	if err := tee.CheckClaims(claims, opts); err != nil {
		return nil, err
	}
	return claims, nil
}

func (v *Verifier) verifyAKCert(att *attestpb.Attestation, opts tee.VerifyOptions) (*x509.Certificate, []*x509.Certificate, error) {
	if len(att.GetAkCert()) == 0 {
		return nil, nil, fail("ak_cert", tee.ErrChain, "attestation has no AK certificate and no AK is pinned")
	}
	cert, err := x509.ParseCertificate(att.GetAkCert())
	if err != nil {
		return nil, nil, fail("ak_cert", tee.ErrMalformed, "%v", err)
	}
	var unhandled []asn1.ObjectIdentifier
	for _, ext := range cert.UnhandledCriticalExtensions {
		if !ext.Equal(oidSubjectAltName) {
			unhandled = append(unhandled, ext)
		}
	}
	cert.UnhandledCriticalExtensions = unhandled
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	for _, r := range v.roots {
		roots.AddCert(r)
	}
	for _, c := range v.intermediates {
		inter.AddCert(c)
	}
	for i, der := range att.GetIntermediateCerts() {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, nil, fail("intermediate_certs["+strconv.Itoa(i)+"]", tee.ErrMalformed, "%v", err)
		}
		inter.AddCert(c)
	}
	chains, err := cert.Verify(x509.VerifyOptions{
		Roots: roots, Intermediates: inter, CurrentTime: opts.Time,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		if ce, ok := errors.AsType[x509.CertificateInvalidError](err); ok && ce.Reason == x509.Expired {
			return nil, nil, tee.WrapError(tee.TPM, "ak_cert", tee.ErrExpired, err)
		}
		return nil, nil, tee.WrapError(tee.TPM, "ak_cert", tee.ErrChain, err)
	}
	return cert, chains[0], nil
}

func classify(err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "did not match expected extraData"):
		return tee.WrapError(tee.TPM, "nonce", tee.ErrNonce, err)
	case strings.Contains(msg, "signature verification failed"), strings.Contains(msg, "signature decoding failed"),
		strings.Contains(msg, "key not trusted"), strings.Contains(msg, "AK public"):
		return tee.WrapError(tee.TPM, "quote.signature", tee.ErrSignature, err)
	case strings.Contains(msg, "PCRs digest"), strings.Contains(msg, "PCR selection"):
		return tee.WrapError(tee.TPM, "quote.pcrs", tee.ErrSignature, err)
	case strings.Contains(msg, "event log"):
		return tee.WrapError(tee.TPM, "event_log", tee.ErrMeasurement, err)
	case strings.Contains(msg, "decoding attestation data"), strings.Contains(msg, "expected quote tag"):
		return tee.WrapError(tee.TPM, "quote", tee.ErrMalformed, err)
	}
	return tee.WrapError(tee.TPM, "quote", tee.ErrSignature, err)
}
