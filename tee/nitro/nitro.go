package nitro

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/veraison/go-cose"

	"github.com/hallmark-dev/hallmark/tee"
)

// RootFingerprint is the lowercase hex SHA-256 of the DER of the AWS Nitro
// Enclaves root certificate (CN=aws.nitro-enclaves, P-384).
const RootFingerprint = "641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b"

// Field limits from the Nitro Enclaves attestation document specification.
const (
	maxPCRs      = 32
	maxCABundle  = 16
	maxDataField = 1024 // user_data, nonce, public_key
)

// Verifier verifies Nitro attestation documents. The zero value is not
// usable; call [New].
type Verifier struct {
	rootFingerprint [sha256.Size]byte
}

var _ tee.Verifier = (*Verifier)(nil)

// Option configures a [Verifier].
type Option func(*config) error

type config struct {
	rootFingerprint string
}

// WithRootFingerprintUnsafe pins a different root (hex SHA-256 of its DER)
// instead of the AWS Nitro root. Only for tests with locally made documents.
func WithRootFingerprintUnsafe(hexSHA256 string) Option {
	return func(c *config) error {
		c.rootFingerprint = hexSHA256
		return nil
	}
}

// New returns a verifier pinned to the AWS Nitro root.
func New(opts ...Option) (*Verifier, error) {
	c := config{rootFingerprint: RootFingerprint}
	for _, o := range opts {
		if err := o(&c); err != nil {
			return nil, err
		}
	}
	fp, err := hex.DecodeString(c.rootFingerprint)
	if err != nil || len(fp) != sha256.Size {
		return nil, fmt.Errorf("nitro: root fingerprint %q is not 64 hex characters", c.rootFingerprint)
	}
	v := &Verifier{}
	copy(v.rootFingerprint[:], fp)
	return v, nil
}

// Platform returns tee.Nitro.
func (*Verifier) Platform() tee.Platform { return tee.Nitro }

// document is the CBOR payload of an attestation document.
type document struct {
	ModuleID    string          `cbor:"module_id"`
	Digest      string          `cbor:"digest"`
	Timestamp   uint64          `cbor:"timestamp"`
	PCRs        map[uint][]byte `cbor:"pcrs"`
	Certificate []byte          `cbor:"certificate"`
	CABundle    [][]byte        `cbor:"cabundle"`
	PublicKey   []byte          `cbor:"public_key"`
	UserData    []byte          `cbor:"user_data"`
	Nonce       []byte          `cbor:"nonce"`
}

var payloadDecMode = func() cbor.DecMode {
	m, err := cbor.DecOptions{
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		MaxNestedLevels:  4,
		MaxArrayElements: 64,
		MaxMapPairs:      64,
		IndefLength:      cbor.IndefLengthForbidden,
	}.DecMode()
	if err != nil {
		panic(err) // constant options; cannot fail
	}
	return m
}()

func fail(field string, sentinel error, format string, args ...any) error {
	return tee.Errorf(tee.Nitro, field, sentinel, format, args...)
}

// decodeEvidence accepts the raw COSE_Sign1 (tagged or untagged) or its
// standard base64 encoding (how documents are usually stored).
func decodeEvidence(evidence []byte) (*cose.Sign1Message, error) {
	if err := tee.CheckSize(tee.Nitro, "document", len(evidence), tee.MaxNitroEvidence); err != nil {
		return nil, err
	}
	raw := evidence
	if len(raw) > 0 && raw[0] != 0x84 && raw[0] != 0xd2 {
		dec, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(raw)))
		if err != nil {
			return nil, fail("document", tee.ErrMalformed, "neither COSE_Sign1 nor base64: %v", err)
		}
		raw = dec
	}
	if len(raw) == 0 {
		return nil, fail("document", tee.ErrMalformed, "empty")
	}
	var msg cose.Sign1Message
	var err error
	if raw[0] == 0xd2 {
		err = msg.UnmarshalCBOR(raw)
	} else {
		err = (*cose.UntaggedSign1Message)(&msg).UnmarshalCBOR(raw)
	}
	if err != nil {
		return nil, fail("document", tee.ErrMalformed, "COSE_Sign1: %v", err)
	}
	return &msg, nil
}

// MaxClockSkew is how far after the verification time a document's
// timestamp may lie (the enclave's clock and the verifier's differ).
const MaxClockSkew = 5 * time.Minute

// Verify checks a Nitro attestation document and returns its claims.
func (v *Verifier) Verify(ctx context.Context, evidence []byte, opts tee.VerifyOptions) (*tee.Claims, error) {
	if err := opts.Validate(tee.Nitro); err != nil {
		return nil, err
	}
	msg, err := decodeEvidence(evidence)
	if err != nil {
		return nil, err
	}
	alg, err := msg.Headers.Protected.Algorithm()
	if err != nil || alg != cose.AlgorithmES384 {
		return nil, fail("protected.alg", tee.ErrSignature, "algorithm %v, want ES384", alg)
	}
	var doc document
	if err := payloadDecMode.Unmarshal(msg.Payload, &doc); err != nil {
		return nil, fail("payload", tee.ErrMalformed, "CBOR: %v", err)
	}
	if err := doc.check(); err != nil {
		return nil, err
	}
	leaf, chain, err := v.verifyChain(&doc, opts.Time)
	if err != nil {
		return nil, err
	}
	pub, ok := leaf.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P384() {
		return nil, fail("certificate", tee.ErrSignature, "signing key is not ECDSA P-384")
	}
	cv, err := cose.NewVerifier(cose.AlgorithmES384, pub)
	if err != nil {
		return nil, fail("certificate", tee.ErrSignature, "%v", err)
	}
	if err := msg.Verify(nil, cv); err != nil {
		return nil, tee.WrapError(tee.Nitro, "signature", tee.ErrSignature, err)
	}
	// A leaf certificate is valid for hours and signs many documents: one
	// dated after the verification time did not exist then, though its
	// certificate did.
	if issued := time.UnixMilli(int64(doc.Timestamp)); issued.After(opts.Time.Add(MaxClockSkew)) {
		return nil, fail("timestamp", tee.ErrExpired, "not yet valid: document dated %s, after the verification time %s",
			issued.UTC().Format(time.RFC3339), opts.Time.UTC().Format(time.RFC3339))
	}
	claims := doc.claims(chain)
	if err := tee.CheckClaims(claims, opts); err != nil {
		return nil, err
	}
	return claims, nil
}

func (d *document) check() error {
	switch {
	case d.ModuleID == "":
		return fail("module_id", tee.ErrMalformed, "missing")
	case d.Digest != "SHA384":
		return fail("digest", tee.ErrMalformed, "%q, want SHA384", d.Digest)
	case d.Timestamp == 0:
		return fail("timestamp", tee.ErrMalformed, "missing")
	case len(d.PCRs) == 0 || len(d.PCRs) > maxPCRs:
		return fail("pcrs", tee.ErrMalformed, "%d entries, want 1..%d", len(d.PCRs), maxPCRs)
	case len(d.Certificate) == 0:
		return fail("certificate", tee.ErrMalformed, "missing")
	case len(d.CABundle) == 0 || len(d.CABundle) > maxCABundle:
		return fail("cabundle", tee.ErrMalformed, "%d certificates, want 1..%d", len(d.CABundle), maxCABundle)
	case len(d.PublicKey) > maxDataField:
		return fail("public_key", tee.ErrTooLarge, "%d bytes", len(d.PublicKey))
	case len(d.UserData) > maxDataField:
		return fail("user_data", tee.ErrTooLarge, "%d bytes", len(d.UserData))
	case len(d.Nonce) > maxDataField:
		return fail("nonce", tee.ErrTooLarge, "%d bytes", len(d.Nonce))
	}
	for i, p := range d.PCRs {
		if i >= maxPCRs || (len(p) != 32 && len(p) != 48 && len(p) != 64) {
			return fail(fmt.Sprintf("pcrs[%d]", i), tee.ErrMalformed, "%d bytes", len(p))
		}
	}
	return nil
}

// verifyChain checks certificate -> cabundle[n-1] ... cabundle[1] -> cabundle[0]
// at time at, with cabundle[0] pinned by fingerprint.
func (v *Verifier) verifyChain(d *document, at time.Time) (*x509.Certificate, []*x509.Certificate, error) {
	if got := sha256.Sum256(d.CABundle[0]); got != v.rootFingerprint {
		return nil, nil, fail("cabundle[0]", tee.ErrChain, "root SHA-256 %x is not the pinned AWS Nitro root %x", got, v.rootFingerprint)
	}
	root, err := x509.ParseCertificate(d.CABundle[0])
	if err != nil {
		return nil, nil, fail("cabundle[0]", tee.ErrMalformed, "%v", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(root)
	inter := x509.NewCertPool()
	for i, der := range d.CABundle[1:] {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, nil, fail("cabundle["+strconv.Itoa(i+1)+"]", tee.ErrMalformed, "%v", err)
		}
		inter.AddCert(c)
	}
	leaf, err := x509.ParseCertificate(d.Certificate)
	if err != nil {
		return nil, nil, fail("certificate", tee.ErrMalformed, "%v", err)
	}
	chains, err := leaf.Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		CurrentTime:   at,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		if ce, ok := errors.AsType[x509.CertificateInvalidError](err); ok && ce.Reason == x509.Expired {
			return nil, nil, tee.WrapError(tee.Nitro, "certificate", tee.ErrExpired, err)
		}
		return nil, nil, tee.WrapError(tee.Nitro, "certificate", tee.ErrChain, err)
	}
	return leaf, chains[0], nil
}

func (d *document) claims(chain []*x509.Certificate) *tee.Claims {
	c := &tee.Claims{
		Platform:     tee.Nitro,
		Measurements: make(map[string]string, len(d.PCRs)),
		ReportData:   bytes.Clone(d.UserData),
		Nonce:        bytes.Clone(d.Nonce),
		PublicKey:    bytes.Clone(d.PublicKey),
		IssuedAt:     time.UnixMilli(int64(d.Timestamp)).UTC(),
		Attributes:   map[string]string{"module_id": d.ModuleID, "digest": d.Digest},
		Signer:       tee.SignerFromChain(chain),
	}
	// In debug mode the Nitro hypervisor reports every PCR as zeros.
	c.Debug = true
	for i, p := range d.PCRs {
		c.Measurements["pcr"+strconv.FormatUint(uint64(i), 10)] = hex.EncodeToString(p)
		if i <= 2 && !allZero(p) {
			c.Debug = false
		}
	}
	return c
}

func allZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}
