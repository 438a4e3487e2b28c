package host

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"time"

	"github.com/digitorus/timestamp"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/timestamp-authority/v2/pkg/verification"
	tsx509 "github.com/sigstore/timestamp-authority/v2/pkg/x509"
)

// MaxTimestampRequestBytes bounds an RFC 3161 request: a digest, a nonce
// and a policy OID take well under 1 KiB.
const MaxTimestampRequestBytes = 10 << 10

// TimestampPath is where the TSA answers, relative to its mount point, as
// timestamp-server does; TimestampPath+"/certchain" serves its chain.
const TimestampPath = "/api/v1/timestamp"

// defaultPolicy is the TSA policy OID timestamp-server uses by default
// (Sigstore's arc).
var defaultPolicy = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 2}

// TSA is an RFC 3161 timestamp authority answering as Sigstore's
// timestamp-server does: DER requests (application/timestamp-query) in,
// signed timestamp responses out, with the signing certificate embedded.
type TSA struct {
	signer   crypto.Signer
	chain    []*x509.Certificate
	chainPEM []byte
	now      func() time.Time
	logger   *slog.Logger
}

// NewTSA returns a TSA that signs with key under the certificate chain
// (leaf first, root last). The chain must be valid for timestamping and its
// leaf certify key, as timestamp-server checks at start (VerifyCertChain).
func NewTSA(key crypto.Signer, chain []*x509.Certificate, now func() time.Time, logger *slog.Logger) (*TSA, error) {
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := tsx509.VerifyCertChain(chain, key, true); err != nil {
		return nil, fmt.Errorf("TSA certificate chain: %w", err)
	}
	pemChain, err := cryptoutils.MarshalCertificatesToPEM(chain)
	if err != nil {
		return nil, fmt.Errorf("TSA certificate chain: %w", err)
	}
	return &TSA{signer: key, chain: chain, chainPEM: pemChain, now: now, logger: logger}, nil
}

// Chain returns the TSA's certificate chain, leaf first.
func (t *TSA) Chain() []*x509.Certificate { return t.chain }

// Handler serves TimestampPath (POST) and its certchain (GET).
func (t *TSA) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+TimestampPath, t.timestamp)
	mux.HandleFunc("GET "+TimestampPath+"/certchain", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/pem-certificate-chain")
		_, _ = w.Write(t.chainPEM)
	})
	return mux
}

func (t *TSA) timestamp(w http.ResponseWriter, r *http.Request) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/timestamp-query" {
		http.Error(w, "content type must be application/timestamp-query", http.StatusUnsupportedMediaType)
		return
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxTimestampRequestBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			http.Error(w, fmt.Sprintf("timestamp request larger than %d bytes", MaxTimestampRequestBytes), http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "reading timestamp request", http.StatusBadRequest)
		return
	}
	resp, err := t.Respond(raw)
	if err != nil {
		if errors.Is(err, ErrTimestampRequest) {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		t.logger.Error("timestamp authority: signing", "error", err)
		http.Error(w, "failed to generate timestamp response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/timestamp-reply")
	_, _ = io.Copy(w, bytes.NewReader(resp))
}

// ErrTimestampRequest is returned for a malformed or refused request.
var ErrTimestampRequest = errors.New("bad timestamp request")

// Respond answers a DER-encoded RFC 3161 request with a DER-encoded
// response, refusing weak or inconsistent digests as timestamp-server does.
func (t *TSA) Respond(req []byte) ([]byte, error) {
	if len(req) > MaxTimestampRequestBytes {
		return nil, fmt.Errorf("%w: %d bytes (limit %d)", ErrTimestampRequest, len(req), MaxTimestampRequestBytes)
	}
	parsed, err := timestamp.ParseRequest(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTimestampRequest, err)
	}
	if err := verification.VerifyRequest(parsed); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTimestampRequest, err)
	}
	policy := parsed.TSAPolicyOID
	if len(policy) == 0 {
		policy = defaultPolicy
	} else if !policy.Equal(defaultPolicy) {
		return nil, fmt.Errorf("%w: policy %s not supported (this TSA signs under %s)", ErrTimestampRequest, policy, defaultPolicy)
	}
	if len(parsed.Extensions) > 0 {
		return nil, fmt.Errorf("%w: request extensions are not supported", ErrTimestampRequest)
	}
	ts := timestamp.Timestamp{
		HashAlgorithm: parsed.HashAlgorithm,
		HashedMessage: parsed.HashedMessage,
		// GeneralizedTime must be UTC (RFC 5280 4.1.2.5.2).
		Time:              t.now().UTC(),
		Nonce:             parsed.Nonce,
		Policy:            policy,
		Accuracy:          time.Second,
		AddTSACertificate: parsed.Certificates,
	}
	resp, err := ts.CreateResponseWithOpts(t.chain[0], t.signer, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("timestamp response: %w", err)
	}
	return resp, nil
}
