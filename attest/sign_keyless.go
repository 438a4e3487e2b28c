package attest

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"google.golang.org/protobuf/encoding/protojson"
)

// SignKeyless signs st without a long-lived key (Sigstore keyless): with a
// fresh ephemeral ECDSA P-256 key, for which the Fulcio certificate
// authority at fulcioURL issues a short-lived certificate naming the OIDC
// identity of idToken. It returns the Sigstore bundle v0.3 (the certificate
// is its verification material) and the identity the certificate names.
// The certificate expires in minutes, so the bundle verifies only with a
// log entry or timestamp proving when it was used: give
// WithTransparencyLog or WithTimestampAuthority (or both).
func SignKeyless(ctx context.Context, st *intoto.Statement, fulcioURL, idToken string, opts ...SignOption) ([]byte, *Certificate, error) {
	sc, err := newSignConfig(opts)
	if err != nil {
		return nil, nil, err
	}
	if err := checkServiceURL("Fulcio", fulcioURL); err != nil {
		return nil, nil, err
	}
	if idToken == "" {
		return nil, nil, errors.New("keyless signing: no OIDC identity token")
	}
	if len(sc.tlogs) == 0 && len(sc.tsas) == 0 {
		return nil, nil, errors.New("keyless signing needs a transparency log or a timestamp authority: the certificate lives minutes, and only a logged or timestamped signature proves it was used while valid")
	}
	if err := st.Validate(); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrStatement, err)
	}
	payload, err := marshalStatement(st)
	if err != nil {
		return nil, nil, err
	}
	kp, err := sign.NewEphemeralKeypair(nil)
	if err != nil {
		return nil, nil, fmt.Errorf("keyless signing: ephemeral key: %w", err)
	}
	pb, err := sign.Bundle(&sign.DSSEData{Data: payload, PayloadType: PayloadType}, kp, sign.BundleOptions{
		Context:                    ctx,
		CertificateProvider:        sign.NewFulcio(&sign.FulcioOptions{BaseURL: fulcioURL, Timeout: 30 * time.Second, Retries: 1}),
		CertificateProviderOptions: &sign.CertificateProviderOptions{IDToken: idToken},
		TransparencyLogs:           sc.tlogs,
		TimestampAuthorities:       sc.tsas,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("keyless signing with Fulcio %s: %w", fulcioURL, err)
	}
	leaf, err := x509.ParseCertificate(pb.GetVerificationMaterial().GetCertificate().GetRawBytes())
	if err != nil {
		return nil, nil, fmt.Errorf("keyless signing: certificate from Fulcio %s: %w", fulcioURL, err)
	}
	summary, err := certificate.SummarizeCertificate(leaf)
	if err != nil {
		return nil, nil, fmt.Errorf("keyless signing: certificate from Fulcio %s: %w", fulcioURL, err)
	}
	raw, err := protojson.Marshal(pb)
	if err != nil {
		return nil, nil, fmt.Errorf("encode bundle: %w", err)
	}
	return raw, &summary, nil
}
