package host

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"time"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
	tsx509 "github.com/sigstore/timestamp-authority/v2/pkg/x509"
)

// ChainValidity is how long a chain NewChain makes is valid.
const ChainValidity = 10 * 365 * 24 * time.Hour

// NewChain certifies key for timestamping: a leaf with the critical
// timestamping extended key usage RFC 3161 requires, issued by a fresh
// self-signed root whose private key is discarded once it has signed, so
// nothing can issue another leaf under it. The chain is valid from a
// minute before now for ChainValidity, and passes timestamp-authority's
// VerifyCertChain. (timestamp-authority's own in-memory chain builder lives
// in a package that links every cloud KMS client, hence this one.)
func NewChain(key crypto.Signer, now time.Time) ([]*x509.Certificate, error) {
	rootKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("TSA root key: %w", err)
	}
	from, until := now.Add(-time.Minute), now.Add(ChainValidity)
	serial := func() (*big.Int, error) { return cryptoutils.GenerateSerialNumber() }
	sn, err := serial()
	if err != nil {
		return nil, err
	}
	rootTmpl := &x509.Certificate{
		SerialNumber:          sn,
		Subject:               pkix.Name{CommonName: "Hallmark self-hosted TSA root", Organization: []string{"hallmark"}},
		NotBefore:             from,
		NotAfter:              until,
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping},
	}
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, rootKey.Public(), rootKey)
	if err != nil {
		return nil, fmt.Errorf("TSA root certificate: %w", err)
	}
	root, err := x509.ParseCertificate(rootDER)
	if err != nil {
		return nil, err
	}
	eku, err := asn1.Marshal([]asn1.ObjectIdentifier{tsx509.EKUTimestampingOID})
	if err != nil {
		return nil, err
	}
	skid, err := cryptoutils.SKID(key.Public())
	if err != nil {
		return nil, err
	}
	if sn, err = serial(); err != nil {
		return nil, err
	}
	leafTmpl := &x509.Certificate{
		SerialNumber:    sn,
		Subject:         pkix.Name{CommonName: "Hallmark self-hosted TSA", Organization: []string{"hallmark"}},
		SubjectKeyId:    skid,
		NotBefore:       from,
		NotAfter:        until,
		KeyUsage:        x509.KeyUsageDigitalSignature,
		ExtraExtensions: []pkix.Extension{{Id: tsx509.EKUOID, Critical: true, Value: eku}},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, root, key.Public(), rootKey)
	if err != nil {
		return nil, fmt.Errorf("TSA certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(leafDER)
	if err != nil {
		return nil, err
	}
	chain := []*x509.Certificate{leaf, root}
	if err := tsx509.VerifyCertChain(chain, key, true); err != nil {
		return nil, fmt.Errorf("TSA certificate chain: %w", err)
	}
	return chain, nil
}
