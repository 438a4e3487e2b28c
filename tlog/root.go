package tlog

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"net/url"
	"time"

	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	prototrustroot "github.com/sigstore/protobuf-specs/gen/pb-go/trustroot/v1"
	"github.com/sigstore/rekor-tiles/v2/pkg/note"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore/pkg/signature"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/hallmark-dev/hallmark/internal/limits"
)

// MaxRootBytes bounds a trusted root file. The public Sigstore root is about
// 10 KB.
const MaxRootBytes = 1 << 20

// TrustedRootMediaType is the media type of the trusted roots NewRoot writes.
const TrustedRootMediaType = root.TrustedRootMediaType01

// Log describes a transparency log to trust.
type Log struct {
	// BaseURL is where the log is served, e.g. https://log2025-1.rekor.sigstore.dev.
	// Its host name is the log's checkpoint origin.
	BaseURL string
	// PublicKey verifies the log's checkpoints.
	PublicKey crypto.PublicKey
	// ValidFrom is when the key started signing (required by Sigstore
	// clients); ValidUntil, when set, is when it stopped.
	ValidFrom, ValidUntil time.Time
}

// TSA describes an RFC 3161 timestamp authority to trust.
type TSA struct {
	// URL is the authority's timestamp endpoint.
	URL string
	// Chain is its certificate chain, leaf first, root last.
	Chain []*x509.Certificate
	// ValidFrom and ValidUntil bound the times it may attest (inclusive);
	// zero means unbounded on that side.
	ValidFrom, ValidUntil time.Time
}

// CA describes a certificate authority for code-signing certificates to
// trust (a Fulcio instance, for keyless signing).
type CA struct {
	// URL is the authority's base URL.
	URL string
	// Chain is its certificate chain, intermediates first, root last.
	Chain []*x509.Certificate
	// ValidFrom is when it started issuing (required); ValidUntil, when
	// set, is when it stopped.
	ValidFrom, ValidUntil time.Time
}

// Origin returns the checkpoint origin of a log served at baseURL: its host
// name, as rekor-tiles and Sigstore clients use it.
func Origin(baseURL string) (string, error) {
	u, err := url.Parse(baseURL)
	if err != nil || u.Hostname() == "" {
		return "", fmt.Errorf("%w: log base URL %q has no host name", ErrTrustedRoot, baseURL)
	}
	return u.Hostname(), nil
}

// LogID returns the ID of a Rekor v2 log: the signed-note key hash of its
// origin and public key, which entries carry as their log ID.
func LogID(origin string, pub crypto.PublicKey) ([]byte, error) {
	_, id, err := note.KeyHash(origin, pub)
	if err != nil {
		return nil, fmt.Errorf("%w: log key for %s: %v", ErrTrustedRoot, origin, err)
	}
	return id, nil
}

// NewRoot returns a Sigstore trusted_root.json that trusts logs and tsas
// and, for keyless signing, certificate authorities cas. It is what a
// single-operator setup writes for its own log, TSA and Fulcio; users of
// the public Sigstore instances use the root distributed by Sigstore's TUF
// repository instead.
func NewRoot(logs []Log, tsas []TSA, cas ...CA) ([]byte, error) {
	tr := &prototrustroot.TrustedRoot{MediaType: TrustedRootMediaType}
	for _, l := range logs {
		origin, err := Origin(l.BaseURL)
		if err != nil {
			return nil, err
		}
		id, err := LogID(origin, l.PublicKey)
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalPKIXPublicKey(l.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("%w: log key for %s: %v", ErrTrustedRoot, l.BaseURL, err)
		}
		details, err := signature.GetDefaultAlgorithmDetails(l.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("%w: log key for %s: %v", ErrTrustedRoot, l.BaseURL, err)
		}
		if l.ValidFrom.IsZero() {
			return nil, fmt.Errorf("%w: log %s: ValidFrom is required", ErrTrustedRoot, l.BaseURL)
		}
		tr.Tlogs = append(tr.Tlogs, &prototrustroot.TransparencyLogInstance{
			BaseUrl:         l.BaseURL,
			HashAlgorithm:   protocommon.HashAlgorithm_SHA2_256,
			PublicKey:       &protocommon.PublicKey{RawBytes: der, KeyDetails: details.GetSignatureAlgorithm(), ValidFor: timeRange(l.ValidFrom, l.ValidUntil)},
			LogId:           &protocommon.LogId{KeyId: id},
			CheckpointKeyId: &protocommon.LogId{KeyId: id},
		})
	}
	for _, t := range tsas {
		if len(t.Chain) == 0 {
			return nil, fmt.Errorf("%w: TSA %s has no certificate chain", ErrTrustedRoot, t.URL)
		}
		chain := &protocommon.X509CertificateChain{}
		for _, c := range t.Chain {
			chain.Certificates = append(chain.Certificates, &protocommon.X509Certificate{RawBytes: c.Raw})
		}
		rootCert := t.Chain[len(t.Chain)-1]
		ca := &prototrustroot.CertificateAuthority{
			Subject:   &protocommon.DistinguishedName{Organization: first(rootCert.Subject.Organization), CommonName: rootCert.Subject.CommonName},
			Uri:       t.URL,
			CertChain: chain,
		}
		if !t.ValidFrom.IsZero() || !t.ValidUntil.IsZero() {
			ca.ValidFor = timeRange(t.ValidFrom, t.ValidUntil)
		}
		tr.TimestampAuthorities = append(tr.TimestampAuthorities, ca)
	}
	for _, c := range cas {
		if len(c.Chain) == 0 {
			return nil, fmt.Errorf("%w: certificate authority %s has no certificate chain", ErrTrustedRoot, c.URL)
		}
		if c.ValidFrom.IsZero() {
			return nil, fmt.Errorf("%w: certificate authority %s: ValidFrom is required", ErrTrustedRoot, c.URL)
		}
		chain := &protocommon.X509CertificateChain{}
		for _, cert := range c.Chain {
			chain.Certificates = append(chain.Certificates, &protocommon.X509Certificate{RawBytes: cert.Raw})
		}
		rootCert := c.Chain[len(c.Chain)-1]
		tr.CertificateAuthorities = append(tr.CertificateAuthorities, &prototrustroot.CertificateAuthority{
			Subject:   &protocommon.DistinguishedName{Organization: first(rootCert.Subject.Organization), CommonName: rootCert.Subject.CommonName},
			Uri:       c.URL,
			CertChain: chain,
			ValidFor:  timeRange(c.ValidFrom, c.ValidUntil),
		})
	}
	raw, err := protojson.MarshalOptions{Multiline: true}.Marshal(tr)
	if err != nil {
		return nil, fmt.Errorf("encode trusted root: %w", err)
	}
	if _, err := ParseRoot(raw); err != nil {
		return nil, err
	}
	return raw, nil
}

func first(ss []string) string {
	if len(ss) == 0 {
		return ""
	}
	return ss[0]
}

func timeRange(from, until time.Time) *protocommon.TimeRange {
	r := &protocommon.TimeRange{Start: timestamppb.New(from)}
	if !until.IsZero() {
		r.End = timestamppb.New(until)
	}
	return r
}

// ParseRoot decodes a Sigstore trusted_root.json.
func ParseRoot(raw []byte) (*root.TrustedRoot, error) {
	if len(raw) > MaxRootBytes {
		return nil, fmt.Errorf("%w: trusted root of %d bytes (limit %d)", ErrTooLarge, len(raw), MaxRootBytes)
	}
	tr, err := root.NewTrustedRootFromJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTrustedRoot, err)
	}
	for id, l := range tr.RekorLogs() {
		if l.BaseURL == "" {
			return nil, fmt.Errorf("%w: log %s has no baseUrl (its host name is the checkpoint origin)", ErrTrustedRoot, id)
		}
	}
	return tr, nil
}

// LoadRoot reads and decodes the trusted root file at path.
func LoadRoot(path string) (*root.TrustedRoot, error) {
	raw, err := limits.ReadFile(path, MaxRootBytes)
	if err != nil {
		return nil, fmt.Errorf("trusted root: %w", err)
	}
	tr, err := ParseRoot(raw)
	if err != nil {
		return nil, fmt.Errorf("trusted root %s: %w", path, err)
	}
	return tr, nil
}
