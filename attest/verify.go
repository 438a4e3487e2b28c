package attest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/internal/limits"
	"github.com/hallmark-dev/hallmark/internal/strictjson"
	"github.com/hallmark-dev/hallmark/keys"
)

// KeySet is a set of trusted public keys, looked up by key ID, and of
// trusted certificate identities (see AddIdentities).
type KeySet struct {
	byID       map[string]*keys.PublicKey
	identities []Identity
}

// NewKeySet returns a set holding ks.
func NewKeySet(ks ...*keys.PublicKey) *KeySet {
	s := &KeySet{byID: map[string]*keys.PublicKey{}}
	for _, k := range ks {
		s.byID[k.ID()] = k
	}
	return s
}

// Lookup returns the key with the given ID.
func (s *KeySet) Lookup(id string) (*keys.PublicKey, bool) {
	k, ok := s.byID[id]
	return k, ok
}

// Keys returns the keys sorted by ID.
func (s *KeySet) Keys() []*keys.PublicKey {
	out := make([]*keys.PublicKey, 0, len(s.byID))
	for _, k := range s.byID {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID() < out[j].ID() })
	return out
}

// Len returns the number of keys.
func (s *KeySet) Len() int { return len(s.byID) }

// AddIdentities adds trusted certificate identities: bundles signed with a
// Fulcio certificate verify when it chains to the trusted root (see
// WithTrustedRoot) and names one of them. It returns s.
func (s *KeySet) AddIdentities(ids ...Identity) *KeySet {
	s.identities = append(s.identities, ids...)
	return s
}

// Identities returns the trusted certificate identities.
func (s *KeySet) Identities() []Identity { return slices.Clone(s.identities) }

// VerifyOption changes verification.
type VerifyOption func(*verifyConfig) error

type verifyConfig struct {
	threshold int
	input     string
	tl        transparencyConfig // verify_tlog.go
}

// WithThreshold requires signatures from at least k distinct trusted keys
// (default 1). Several signatures by one key count once.
func WithThreshold(k int) VerifyOption {
	return func(c *verifyConfig) error {
		if k < 1 {
			return fmt.Errorf("threshold %d: must be at least 1", k)
		}
		c.threshold = k
		return nil
	}
}

// WithInputName names the input in errors (a file path, say).
func WithInputName(name string) VerifyOption {
	return func(c *verifyConfig) error { c.input = name; return nil }
}

// Verified is evidence whose signatures verified against trusted keys and
// whose payload is a valid in-toto Statement. Only Verify creates it.
type Verified struct {
	// ID names the evidence: "sha256:" and the hex SHA-256 of the raw bytes.
	ID string
	// Raw is the bundle (or envelope) exactly as received.
	Raw []byte
	// Statement is the decoded statement.
	Statement *intoto.Statement
	// PredicateType is the statement's predicate type URI.
	PredicateType string
	// Payload is the serialized statement that was signed.
	Payload []byte
	// Signers are the distinct trusted keys whose signatures verified;
	// empty for a certificate-signed (keyless) bundle.
	Signers []*keys.PublicKey
	// Certificate is the identity the verified signing certificate names,
	// for a certificate-signed bundle; nil for one signed with a key.
	Certificate *Certificate
	// Identities are the trusted identities the certificate matches.
	Identities []Identity
	// Time is the earliest RFC 3161 timestamp that verified against the
	// trusted root (see WithTrustedRoot); zero when none was checked.
	Time time.Time
	// Timestamps are all verified timestamps, earliest first.
	Timestamps []time.Time
	// LogEntries counts the transparency log entries that verified against
	// the trusted root (0 without WithTrustedRoot).
	LogEntries int

	predOnce  sync.Once
	predicate json.RawMessage
	predErr   error
}

// PredicateJSON returns the predicate exactly as it appeared in the signed
// payload ("{}" when absent). It is extracted on first use.
func (v *Verified) PredicateJSON() (json.RawMessage, error) {
	v.predOnce.Do(func() { v.predicate, v.predErr = rawPredicate(v.Payload) })
	return v.predicate, v.predErr
}

// DecodePredicate decodes the predicate into out strictly, for predicate
// types whose schema is closed (Hallmark's own): every key must be a field
// of out with exactly its case, so the predicate means to Hallmark what it
// means to jq, OPA and a reader. Unknown keys, keys differing only in case
// and duplicate keys are refused with ErrMalformed.
func (v *Verified) DecodePredicate(out any) error {
	return v.decodePredicate(out)
}

// DecodePredicateOpen is DecodePredicate for predicate types with extension
// points or written by third parties (CycloneDX, SPDX, in-toto vulns): keys
// out does not name are ignored, but the keys it reads must match exactly;
// one that differs only in case from a read field is refused.
func (v *Verified) DecodePredicateOpen(out any) error {
	return v.decodePredicate(out, strictjson.AllowUnknownKeys())
}

func (v *Verified) decodePredicate(out any, opts ...strictjson.Option) error {
	raw, err := v.PredicateJSON()
	if err != nil {
		return err
	}
	if err := strictjson.Decode(raw, out, opts...); err != nil {
		return &Error{Input: v.ID, Err: fmt.Errorf("%w: predicate %s: %w", ErrMalformed, v.PredicateType, err)}
	}
	return nil
}

// PAE returns the DSSE pre-authentication encoding that was signed.
func (v *Verified) PAE() []byte { return dsse.PAE(PayloadType, v.Payload) }

// Subjects returns the statement's subjects sorted by name.
func (v *Verified) Subjects() []Subject { return Subjects(v.Statement) }

// SignerIDs returns the key IDs of the signers and "identity:NAME" for
// each trusted identity the signing certificate matched, sorted.
func (v *Verified) SignerIDs() []string {
	out := make([]string, 0, len(v.Signers)+len(v.Identities))
	for _, k := range v.Signers {
		out = append(out, k.ID())
	}
	for _, id := range v.Identities {
		out = append(out, id.SignerID())
	}
	sort.Strings(out)
	return out
}

// HasDigest reports whether some subject has digest alg:hexValue.
func (v *Verified) HasDigest(alg, hexValue string) bool {
	want := strings.ToLower(hexValue)
	for _, rd := range v.Statement.GetSubject() {
		if strings.ToLower(rd.GetDigest()[alg]) == want {
			return true
		}
	}
	return false
}

// CheckArtifact returns an error wrapping ErrSubjectMismatch unless the
// artifact's SHA-256 is among the subjects. name is used in the error only.
func (v *Verified) CheckArtifact(name string, sha256Hex string) error {
	if !v.HasDigest("sha256", sha256Hex) {
		return &Error{Input: name, Err: fmt.Errorf("%w: sha256:%s", ErrSubjectMismatch, sha256Hex)}
	}
	return nil
}

// envelope is the DSSE envelope after decoding, whatever carried it.
type envelope struct {
	payloadType string
	payload     []byte
	sigs        []envelopeSig
	hint        string // key hint from the bundle's verification material
	// bundle is the Sigstore bundle that carried the envelope; nil for a
	// bare envelope.
	bundle *protobundle.Bundle
	// certificate: the bundle is signed with a certificate, not a key.
	certificate bool
}

type envelopeSig struct {
	keyID string
	sig   []byte
}

// Verify checks a Sigstore bundle (or a bare DSSE envelope) against trusted
// keys: size, strict JSON, media type, base64, signatures (PAE per the DSSE
// specification), payload type and the in-toto Statement. It does not check
// subjects: use CheckArtifact.
func Verify(ctx context.Context, raw []byte, trusted *KeySet, opts ...VerifyOption) (*Verified, error) {
	cfg := verifyConfig{threshold: 1, input: "bundle", tl: transparencyConfig{logs: -1, stamps: -1}}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	cfg.tl.stampsAsked = cfg.tl.stamps
	if err := cfg.tl.validate(); err != nil {
		return nil, err
	}
	fail := func(err error) (*Verified, error) { return nil, &Error{Input: cfg.input, Err: err} }
	env, err := decode(raw)
	if err != nil {
		return fail(err)
	}
	var signers []*keys.PublicKey
	var kl keyless
	if env.certificate {
		kl, err = cfg.verifyKeyless(env, trusted)
	} else {
		signers, err = verifySignatures(env, trusted, cfg.threshold)
	}
	if err != nil {
		return fail(err)
	}
	if env.payloadType != PayloadType {
		return fail(fmt.Errorf("%w: %q (want %q)", ErrPayloadType, env.payloadType, PayloadType))
	}
	st, err := parseStatement(env.payload)
	if err != nil {
		return fail(err)
	}
	tl := kl.transparency
	if !env.certificate {
		if tl, err = cfg.tl.check(raw, signers); err != nil {
			return fail(err)
		}
	}
	v := &Verified{
		ID:            digest.Sum256(raw).String(),
		Raw:           raw,
		Statement:     st,
		PredicateType: st.GetPredicateType(),
		Payload:       env.payload,
		Signers:       signers,
		Certificate:   kl.certificate,
		Identities:    kl.identities,
		Timestamps:    tl.times,
		LogEntries:    tl.entries,
	}
	if len(tl.times) > 0 {
		v.Time = tl.times[0]
	}
	return v, nil
}

// VerifiedEnvelope is a DSSE envelope whose signatures verified; its payload
// may be of any type.
type VerifiedEnvelope struct {
	PayloadType string
	Payload     []byte
	Signers     []*keys.PublicKey
}

// VerifyEnvelope checks only the DSSE layer of a bare envelope: signatures
// over the PAE by at least the threshold of distinct trusted keys. It accepts
// any payload type; use Verify for evidence.
func VerifyEnvelope(ctx context.Context, raw []byte, trusted *KeySet, opts ...VerifyOption) (*VerifiedEnvelope, error) {
	cfg := verifyConfig{threshold: 1, input: "envelope"}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	env, err := decode(raw)
	if err != nil {
		return nil, &Error{Input: cfg.input, Err: err}
	}
	signers, err := verifySignatures(env, trusted, cfg.threshold)
	if err != nil {
		return nil, &Error{Input: cfg.input, Err: err}
	}
	return &VerifiedEnvelope{PayloadType: env.payloadType, Payload: env.payload, Signers: signers}, nil
}

// shape is what decode reads first, with encoding/json, to route the input
// and to check base64 fields with precise errors before protojson sees them.
type shape struct {
	MediaType    *string        `json:"mediaType"`
	PayloadType  *string        `json:"payloadType"`
	Payload      *string        `json:"payload"`
	Signatures   []shapeSig     `json:"signatures"`
	DSSEEnvelope *shapeEnvelope `json:"dsseEnvelope"`
	// cosign 2.x's own --bundle format (not a Sigstore bundle).
	Base64Signature *string         `json:"base64Signature"`
	RekorBundle     json.RawMessage `json:"rekorBundle"`
}

type shapeEnvelope struct {
	Payload     *string    `json:"payload"`
	PayloadType *string    `json:"payloadType"`
	Signatures  []shapeSig `json:"signatures"`
}

type shapeSig struct {
	KeyID string `json:"keyid"`
	Sig   string `json:"sig"`
}

// supportedMediaTypes are the Sigstore bundle versions read: 0.3, which
// Hallmark writes, and 0.1 and 0.2, which npm, sigstore-js and cosign wrote
// before it (same envelope; the certificate chain and log entry differ).
var supportedMediaTypes = map[string]bool{
	"application/vnd.dev.sigstore.bundle.v0.3+json":        true,
	"application/vnd.dev.sigstore.bundle+json;version=0.3": true,
	"application/vnd.dev.sigstore.bundle+json;version=0.2": true,
	"application/vnd.dev.sigstore.bundle+json;version=0.1": true,
}

func decode(raw []byte) (*envelope, error) {
	if len(raw) > limits.MaxBundleBytes {
		return nil, fmt.Errorf("%w: %d bytes (limit %d)", ErrTooLarge, len(raw), limits.MaxBundleBytes)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, fmt.Errorf("%w: empty input", ErrMalformed)
	}
	// Fast path: a well-formed Sigstore bundle. protojson is strict: it
	// rejects duplicate keys, unknown fields, invalid UTF-8 and trailing data.
	var pb protobundle.Bundle
	pbErr := protoJSON.Unmarshal(raw, &pb)
	if pbErr == nil && pb.GetMediaType() != "" {
		return fromBundle(&pb)
	}
	// Otherwise a bare DSSE envelope, or a broken bundle to diagnose with an
	// error that names the problem.
	if err := checkStrictJSON(raw); err != nil {
		return nil, err
	}
	var sh shape
	if err := json.Unmarshal(raw, &sh); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	switch {
	case sh.Base64Signature != nil || sh.RekorBundle != nil:
		return nil, fmt.Errorf("%w: this is cosign's own --bundle file (base64Signature, cert, rekorBundle), which signs a blob, not an in-toto statement in a DSSE envelope: "+
			"write a Sigstore bundle instead (cosign attest-blob or cosign attest with --new-bundle-format --bundle FILE)", ErrLegacyFormat)
	case sh.MediaType != nil:
		if !supportedMediaTypes[*sh.MediaType] {
			return nil, fmt.Errorf("%w: %q (want %q)", ErrMediaType, *sh.MediaType, BundleMediaType)
		}
		if sh.DSSEEnvelope == nil {
			return nil, fmt.Errorf("%w: bundle has no dsseEnvelope (message signatures are not evidence)", ErrMalformed)
		}
		if _, err := decodeEnvelope(sh.DSSEEnvelope.PayloadType, sh.DSSEEnvelope.Payload, sh.DSSEEnvelope.Signatures, ""); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: not a Sigstore bundle: %v", ErrMalformed, pbErr)
	case sh.PayloadType != nil:
		return decodeEnvelope(sh.PayloadType, sh.Payload, sh.Signatures, "")
	default:
		return nil, fmt.Errorf("%w: neither a Sigstore bundle (no mediaType) nor a DSSE envelope (no payloadType)", ErrMalformed)
	}
}

// protoJSON decodes Sigstore bundles and in-toto statements.
var protoJSON = protojson.UnmarshalOptions{RecursionLimit: limits.MaxJSONDepth}

func fromBundle(pb *protobundle.Bundle) (*envelope, error) {
	if !supportedMediaTypes[pb.GetMediaType()] {
		return nil, fmt.Errorf("%w: %q (want %q)", ErrMediaType, pb.GetMediaType(), BundleMediaType)
	}
	de := pb.GetDsseEnvelope()
	if de == nil {
		return nil, fmt.Errorf("%w: bundle has no dsseEnvelope (message signatures are not evidence)", ErrMalformed)
	}
	if pb.GetVerificationMaterial() == nil {
		return nil, fmt.Errorf("%w: bundle has no verificationMaterial", ErrMalformed)
	}
	if len(de.GetSignatures()) == 0 {
		return nil, ErrNoSignature
	}
	if len(de.GetSignatures()) > limits.MaxSignatures {
		return nil, fmt.Errorf("%w: %d signatures (limit %d)", ErrTooLarge, len(de.GetSignatures()), limits.MaxSignatures)
	}
	vm := pb.GetVerificationMaterial()
	env := &envelope{payloadType: de.GetPayloadType(), payload: de.GetPayload(), hint: vm.GetPublicKey().GetHint(), bundle: pb,
		certificate: vm.GetCertificate() != nil || vm.GetX509CertificateChain() != nil}
	for i, s := range de.GetSignatures() {
		if len(s.GetSig()) == 0 {
			return nil, fmt.Errorf("%w: signatures[%d] is empty", ErrNoSignature, i)
		}
		env.sigs = append(env.sigs, envelopeSig{keyID: s.GetKeyid(), sig: s.GetSig()})
	}
	return env, nil
}

func decodeEnvelope(payloadType, payload *string, sigs []shapeSig, hint string) (*envelope, error) {
	if payloadType == nil || payload == nil {
		return nil, fmt.Errorf("%w: DSSE envelope lacks payloadType or payload", ErrMalformed)
	}
	body, err := b64(*payload)
	if err != nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrEncoding, err)
	}
	if len(sigs) == 0 {
		return nil, ErrNoSignature
	}
	if len(sigs) > limits.MaxSignatures {
		return nil, fmt.Errorf("%w: %d signatures (limit %d)", ErrTooLarge, len(sigs), limits.MaxSignatures)
	}
	env := &envelope{payloadType: *payloadType, payload: body, hint: hint}
	for i, s := range sigs {
		sig, err := b64(s.Sig)
		if err != nil {
			return nil, fmt.Errorf("%w: signatures[%d].sig: %v", ErrEncoding, i, err)
		}
		if len(sig) == 0 {
			return nil, fmt.Errorf("%w: signatures[%d] is empty", ErrNoSignature, i)
		}
		env.sigs = append(env.sigs, envelopeSig{keyID: s.KeyID, sig: sig})
	}
	return env, nil
}

// b64 decodes standard or URL-safe base64, padded or not, as the DSSE
// envelope specification allows.
func b64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding.Strict(), base64.URLEncoding.Strict(), base64.RawStdEncoding.Strict(), base64.RawURLEncoding.Strict()} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, fmt.Errorf("not base64 (%d characters)", len(s))
}

// verifySignatures checks each signature over the PAE against the trusted
// keys and returns the distinct keys that verified, failing unless there are
// at least threshold of them.
func verifySignatures(env *envelope, trusted *KeySet, threshold int) ([]*keys.PublicKey, error) {
	if trusted == nil || trusted.Len() == 0 && len(trusted.identities) == 0 {
		return nil, fmt.Errorf("%w: no trusted keys given", ErrUnknownKey)
	}
	pae := dsse.PAE(env.payloadType, env.payload)
	accepted := map[string]*keys.PublicKey{}
	for _, s := range env.sigs {
		for _, k := range trusted.Keys() {
			if accepted[k.ID()] != nil {
				continue // one key counts once, however many signatures it made
			}
			if verifyOne(k, pae, s.sig) {
				accepted[k.ID()] = k
				break
			}
		}
	}
	if len(accepted) >= threshold {
		out := make([]*keys.PublicKey, 0, len(accepted))
		for _, k := range accepted {
			out = append(out, k)
		}
		sort.Slice(out, func(i, j int) bool { return out[i].ID() < out[j].ID() })
		return out, nil
	}
	if len(accepted) > 0 {
		return nil, fmt.Errorf("%w: %d of %d required", ErrThreshold, len(accepted), threshold)
	}
	if env.bundle == nil && len(trusted.identities) > 0 {
		// cosign --output-attestation writes the envelope alone; a keyless
		// signature needs the certificate and log entry a bundle carries.
		if len(accepted) == 0 {
			return nil, fmt.Errorf("%w: no trusted key verifies this bare DSSE envelope, and it carries no certificate for a trusted identity: "+
				"for keyless signatures give the Sigstore bundle instead (cosign attest --new-bundle-format --bundle FILE, not --output-attestation)", ErrSignature)
		}
	}
	for _, id := range claimedKeyIDs(env) {
		if _, ok := trusted.Lookup(id); !ok {
			return nil, fmt.Errorf("%w: key %s is not in the trusted set", ErrUnknownKey, id)
		}
	}
	return nil, fmt.Errorf("%w: no trusted key verifies any of %d signature(s); the payload, payload type or signature was altered, or the key does not match", ErrSignature, len(env.sigs))
}

func claimedKeyIDs(env *envelope) []string {
	var ids []string
	if env.hint != "" {
		ids = append(ids, env.hint)
	}
	for _, s := range env.sigs {
		if s.keyID != "" {
			ids = append(ids, s.keyID)
		}
	}
	return ids
}

func verifyOne(k *keys.PublicKey, pae, sig []byte) bool {
	v, err := k.Verifier()
	if err != nil {
		return false
	}
	if v.VerifySignature(bytes.NewReader(sig), bytes.NewReader(pae)) == nil {
		return true
	}
	// DSSE implementations differ on ECDSA encoding; the specification's own
	// test vector uses the fixed-size r||s form. Accept it too.
	if pub, ok := k.Key().(*ecdsa.PublicKey); ok {
		size := (pub.Curve.Params().BitSize + 7) / 8
		if len(sig) == 2*size {
			der, err := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:])})
			if err == nil {
				return v.VerifySignature(bytes.NewReader(der), bytes.NewReader(pae)) == nil
			}
		}
	}
	return false
}

// InspectUnverified decodes a bundle or envelope and returns its payload
// type and payload without checking any signature, for display of evidence
// that was verified before it was stored. Never base a decision on it.
func InspectUnverified(raw []byte) (payloadType string, payload []byte, err error) {
	env, err := decode(raw)
	if err != nil {
		return "", nil, err
	}
	return env.payloadType, env.payload, nil
}
