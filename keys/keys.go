package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// Algorithm names a key type Hallmark can generate.
type Algorithm string

// The algorithms `hallmark keygen --algorithm` accepts.
const (
	ECDSAP256 Algorithm = "ecdsa-p256"
	Ed25519   Algorithm = "ed25519"
	RSA3072   Algorithm = "rsa-3072"
)

// Algorithms lists the algorithms Generate accepts, default first.
func Algorithms() []Algorithm { return []Algorithm{ECDSAP256, Ed25519, RSA3072} }

// Errors callers can test for with errors.Is.
var (
	ErrUnknownAlgorithm = errors.New("unknown key algorithm")
	ErrEmptyPassphrase  = errors.New("empty passphrase refused")
	ErrWrongPassphrase  = errors.New("wrong passphrase or corrupted key")
	ErrNotPEM           = errors.New("not a PEM-encoded key")
	ErrUnsupportedKey   = errors.New("unsupported key type")
)

// encryptedPEMType is the PEM block type of an encrypted private key.
const encryptedPEMType = string(cryptoutils.EncryptedSigstorePrivateKeyPEMType)

// legacyCosignPEMType is the block type older cosign releases wrote.
const legacyCosignPEMType = "ENCRYPTED COSIGN PRIVATE KEY"

// PrivateKey is a signing key together with the signature algorithm it uses.
type PrivateKey struct {
	signer  crypto.Signer
	details signature.AlgorithmDetails
	public  *PublicKey
}

// PublicKey is a verification key with its key ID and signature algorithm.
type PublicKey struct {
	key     crypto.PublicKey
	der     []byte
	id      string
	details signature.AlgorithmDetails
}

// Generate creates a new key of the given algorithm from crypto/rand.
func Generate(alg Algorithm) (*PrivateKey, error) {
	var s crypto.Signer
	var err error
	switch alg {
	case ECDSAP256, "":
		s, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case Ed25519:
		_, s, err = ed25519.GenerateKey(rand.Reader)
	case RSA3072:
		s, err = rsa.GenerateKey(rand.Reader, 3072)
	default:
		return nil, fmt.Errorf("%w %q (want one of %s)", ErrUnknownAlgorithm, alg, algorithmList())
	}
	if err != nil {
		return nil, fmt.Errorf("generate %s key: %w", alg, err)
	}
	return NewPrivateKey(s)
}

func algorithmList() string {
	var names []string
	for _, a := range Algorithms() {
		names = append(names, string(a))
	}
	return strings.Join(names, ", ")
}

// NewPrivateKey wraps an existing signer (ECDSA P-256/P-384/P-521, Ed25519 or
// RSA of at least 2048 bits), choosing the signature algorithm sigstore uses
// for that key type (pure Ed25519, PKCS#1 v1.5 for RSA).
func NewPrivateKey(s crypto.Signer) (*PrivateKey, error) {
	pub, err := NewPublicKey(s.Public())
	if err != nil {
		return nil, err
	}
	return &PrivateKey{signer: s, details: pub.details, public: pub}, nil
}

// NewPublicKey wraps a public key and computes its key ID.
func NewPublicKey(k crypto.PublicKey) (*PublicKey, error) {
	details, err := algorithmFor(k)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		return nil, fmt.Errorf("encode public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return &PublicKey{key: k, der: der, id: hex.EncodeToString(sum[:]), details: details}, nil
}

func algorithmFor(k crypto.PublicKey) (signature.AlgorithmDetails, error) {
	var alg protocommon.PublicKeyDetails
	switch pk := k.(type) {
	case ed25519.PublicKey:
		alg = protocommon.PublicKeyDetails_PKIX_ED25519
	default:
		var err error
		alg, err = signature.GetDefaultPublicKeyDetails(pk)
		if err != nil {
			return signature.AlgorithmDetails{}, fmt.Errorf("%w: %T: %v", ErrUnsupportedKey, k, err)
		}
	}
	d, err := signature.GetAlgorithmDetails(alg)
	if err != nil {
		return signature.AlgorithmDetails{}, fmt.Errorf("%w: %v", ErrUnsupportedKey, err)
	}
	return d, nil
}

// Signer returns the underlying crypto.Signer.
func (k *PrivateKey) Signer() crypto.Signer { return k.signer }

// Public returns the matching public key.
func (k *PrivateKey) Public() *PublicKey { return k.public }

// Algorithm returns the signature algorithm details of the key.
func (k *PrivateKey) Algorithm() signature.AlgorithmDetails { return k.details }

// SignerVerifier returns a sigstore signer for the key's algorithm.
func (k *PrivateKey) SignerVerifier() (signature.SignerVerifier, error) {
	sv, err := signature.LoadSignerVerifierFromAlgorithmDetails(k.signer, k.details)
	if err != nil {
		return nil, fmt.Errorf("load signer for key %s: %w", k.public.id, err)
	}
	return sv, nil
}

// ID returns the key ID: lower-case hex SHA-256 of the PKIX DER public key.
func (p *PublicKey) ID() string { return p.id }

// Key returns the underlying crypto.PublicKey.
func (p *PublicKey) Key() crypto.PublicKey { return p.key }

// Algorithm returns the signature algorithm details of the key.
func (p *PublicKey) Algorithm() signature.AlgorithmDetails { return p.details }

// Verifier returns a sigstore verifier for the key's algorithm.
func (p *PublicKey) Verifier() (signature.Verifier, error) {
	v, err := signature.LoadVerifierFromAlgorithmDetails(p.key, p.details)
	if err != nil {
		return nil, fmt.Errorf("load verifier for key %s: %w", p.id, err)
	}
	return v, nil
}

// MarshalPEM encodes the public key as a PEM "PUBLIC KEY" block.
func (p *PublicKey) MarshalPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: p.der})
}

// Equal reports whether two public keys are the same key.
func (p *PublicKey) Equal(o *PublicKey) bool { return o != nil && p.id == o.id }

// ParsePublicKey decodes a PEM "PUBLIC KEY" block (as written by hallmark,
// cosign or openssl).
func ParsePublicKey(pemBytes []byte) (*PublicKey, error) {
	k, err := cryptoutils.UnmarshalPEMToPublicKey(pemBytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotPEM, err)
	}
	return NewPublicKey(k)
}

// MarshalOption changes how MarshalEncrypted behaves.
type MarshalOption func(*marshalConfig)

type marshalConfig struct{ allowEmpty bool }

// WithEmptyPassphraseUnsafe lets MarshalEncrypted write a key encrypted under
// the empty passphrase, which anyone who copies the file can use.
func WithEmptyPassphraseUnsafe() MarshalOption {
	return func(c *marshalConfig) { c.allowEmpty = true }
}

// MarshalEncrypted encrypts the private key under passphrase and encodes it
// as an "ENCRYPTED SIGSTORE PRIVATE KEY" PEM block. An empty passphrase is
// refused unless WithEmptyPassphraseUnsafe is given.
func (k *PrivateKey) MarshalEncrypted(passphrase []byte, opts ...MarshalOption) ([]byte, error) {
	var cfg marshalConfig
	for _, o := range opts {
		o(&cfg)
	}
	if len(passphrase) == 0 && !cfg.allowEmpty {
		return nil, ErrEmptyPassphrase
	}
	pass := append([]byte{}, passphrase...) // the library must not see a nil slice as "no password"
	enc, err := cryptoutils.MarshalPrivateKeyToEncryptedDER(k.signer, func(bool) ([]byte, error) { return pass, nil })
	if err != nil {
		return nil, fmt.Errorf("encrypt private key %s: %w", k.public.id, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: encryptedPEMType, Bytes: enc}), nil
}

// ParsePrivateKey decrypts a PEM "ENCRYPTED SIGSTORE PRIVATE KEY" (or legacy
// "ENCRYPTED COSIGN PRIVATE KEY") block with passphrase. Unencrypted keys are
// refused: Hallmark never reads a private key stored in the clear.
func ParsePrivateKey(pemBytes, passphrase []byte) (*PrivateKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, ErrNotPEM
	}
	if block.Type != encryptedPEMType && block.Type != legacyCosignPEMType {
		return nil, fmt.Errorf("%w: PEM block %q is not an encrypted sigstore private key", ErrUnsupportedKey, block.Type)
	}
	pass := append([]byte{}, passphrase...)
	priv, err := cryptoutils.UnmarshalPEMToPrivateKey(pemBytes, func(bool) ([]byte, error) { return pass, nil })
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrWrongPassphrase, err)
	}
	s, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: %T", ErrUnsupportedKey, priv)
	}
	return NewPrivateKey(s)
}
