package attest

import (
	"context"
	"crypto"
	"crypto/rand"
	"encoding/base64"
	"fmt"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/keys"
)

// Sign serializes st, signs it as a DSSE envelope with key and returns the
// Sigstore bundle v0.3 JSON. The bundle's verification material is the
// public key hint, which is the key ID (see package keys). Options can log
// the bundle in a transparency log and timestamp its signature.
func Sign(ctx context.Context, key *keys.PrivateKey, st *intoto.Statement, opts ...SignOption) ([]byte, error) {
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStatement, err)
	}
	payload, err := marshalStatement(st)
	if err != nil {
		return nil, err
	}
	return signBundle(ctx, key, payload, opts...)
}

// SignVerified signs st like Sign and returns the result as Verified
// evidence signed by key, without decoding and verifying the bundle it
// just made: for callers that store what they sign and would otherwise pay
// a full verification per record. Everything it returns is what Verify
// returns for the same bundle and key.
func SignVerified(ctx context.Context, key *keys.PrivateKey, st *intoto.Statement) (*Verified, error) {
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStatement, err)
	}
	payload, err := marshalStatement(st)
	if err != nil {
		return nil, err
	}
	return signVerified(ctx, key, st, payload)
}

// SignPredicate signs an in-toto Statement v1 about subjects whose
// predicate is predicate marshaled by encoding/json (it must be a JSON
// object), and returns it as Verified evidence like SignVerified. The
// statement is serialized from the predicate's JSON directly, never
// through a protobuf Struct: for callers that sign on a hot path (the
// gate's records, two per decision). The payload is an ordinary Statement
// v1 document that Verify, sigstore-go and cosign accept. The returned
// Statement holds the subjects and predicate type but no predicate (nil):
// read it with PredicateJSON or DecodePredicate. The predicate is not
// checked for duplicate keys, which encoding/json never writes for Go
// structs and maps; a value whose MarshalJSON writes some makes a record
// Verify refuses when it is read back.
func SignPredicate(ctx context.Context, key *keys.PrivateKey, subjects []Subject, predicateType string, predicate any) (*Verified, error) {
	st, payload, err := predicateStatement(subjects, predicateType, predicate)
	if err != nil {
		return nil, err
	}
	return signVerified(ctx, key, st, payload)
}

func signVerified(ctx context.Context, key *keys.PrivateKey, st *intoto.Statement, payload []byte) (*Verified, error) {
	raw, err := signBundle(ctx, key, payload)
	if err != nil {
		return nil, err
	}
	v := &Verified{
		ID:            digest.Sum256(raw).String(),
		Raw:           raw,
		Statement:     st,
		PredicateType: st.GetPredicateType(),
		Payload:       payload,
		Signers:       []*keys.PublicKey{key.Public()},
	}
	return v, nil
}

// signBundle signs the serialized statement payload as a DSSE envelope
// and encodes the bundle: the one signing path of every key-signed bundle.
func signBundle(ctx context.Context, key *keys.PrivateKey, payload []byte, opts ...SignOption) ([]byte, error) {
	sc, err := newSignConfig(opts)
	if err != nil {
		return nil, err
	}
	if len(sc.tlogs) == 0 && len(sc.tsas) == 0 {
		return signDSSE(ctx, key, payload)
	}
	pb, err := sign.Bundle(&sign.DSSEData{Data: payload, PayloadType: PayloadType}, Keypair(key), sign.BundleOptions{Context: ctx, TransparencyLogs: sc.tlogs, TimestampAuthorities: sc.tsas})
	if err != nil {
		return nil, fmt.Errorf("sign statement with key %s: %w", key.Public().ID(), err)
	}
	raw, err := protojson.Marshal(pb)
	if err != nil {
		return nil, fmt.Errorf("encode bundle: %w", err)
	}
	return raw, nil
}

// signDSSE signs payload as a DSSE envelope with key and encodes the
// bundle as sign.Bundle and protojson would for a key with no log and no
// timestamp authority, without building the protobuf message.
func signDSSE(ctx context.Context, key *keys.PrivateKey, payload []byte) ([]byte, error) {
	kp := keypair{k: key}
	sig, _, err := kp.SignData(ctx, dsse.PAE(PayloadType, payload))
	if err != nil {
		return nil, fmt.Errorf("sign statement with key %s: %w", key.Public().ID(), err)
	}
	size := 200 + len(key.Public().ID()) + base64.StdEncoding.EncodedLen(len(payload)) + base64.StdEncoding.EncodedLen(len(sig))
	raw, err := appendDSSEBundle(make([]byte, 0, size), key.Public().ID(), PayloadType, payload, sig)
	if err != nil {
		return nil, fmt.Errorf("encode bundle: %w", err)
	}
	return raw, nil
}

// Keypair adapts a Hallmark key to sigstore-go's sign.Keypair, so the
// sigstore-go signer can produce bundles with it.
func Keypair(k *keys.PrivateKey) sign.Keypair { return &keypair{k: k} }

type keypair struct{ k *keys.PrivateKey }

var _ sign.Keypair = (*keypair)(nil)

func (p *keypair) GetHashAlgorithm() protocommon.HashAlgorithm {
	return p.k.Algorithm().GetProtoHashType()
}

func (p *keypair) GetSigningAlgorithm() protocommon.PublicKeyDetails {
	return p.k.Algorithm().GetSignatureAlgorithm()
}

func (p *keypair) GetHint() []byte { return []byte(p.k.Public().ID()) }

func (p *keypair) GetKeyAlgorithm() string {
	return p.k.Algorithm().GetSignatureAlgorithm().String()
}

func (p *keypair) GetPublicKey() crypto.PublicKey { return p.k.Public().Key() }

func (p *keypair) GetPublicKeyPem() (string, error) { return string(p.k.Public().MarshalPEM()), nil }

// SignData signs data: the digest of data for ECDSA and RSA, data itself for
// pure Ed25519. It returns the signature and what was signed.
func (p *keypair) SignData(_ context.Context, data []byte) ([]byte, []byte, error) {
	h := p.k.Algorithm().GetHashType()
	toSign := data
	if h != crypto.Hash(0) {
		hh := h.New()
		hh.Write(data)
		toSign = hh.Sum(nil)
	}
	sig, err := p.k.Signer().Sign(rand.Reader, toSign, h)
	if err != nil {
		return nil, nil, fmt.Errorf("sign with key %s: %w", p.k.Public().ID(), err)
	}
	return sig, toSign, nil
}
