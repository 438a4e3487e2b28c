package attest

import (
	"errors"
	"fmt"
	"sort"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

// keyless is what verifying a certificate-signed bundle yields.
type keyless struct {
	transparency
	certificate *Certificate
	identities  []Identity
}

// verifyKeyless verifies a bundle signed with a Fulcio certificate, offline,
// with sigstore-go against the trusted root: the certificate chains to a
// trusted CA, carries a signed certificate timestamp from a trusted CT log
// (when the root has CT logs), was used within its validity as an entry of
// a trusted transparency log or an RFC 3161 timestamp proves, and its key
// signed the DSSE envelope. The certificate must name an identity of
// trusted; every trusted identity it matches is returned.
func (c *verifyConfig) verifyKeyless(env *envelope, trusted *KeySet) (keyless, error) {
	if c.tl.root == nil {
		return keyless{}, fmt.Errorf("%w: the bundle is signed with a certificate (keyless), which verifies only against a Sigstore trusted root: give --trusted-root FILE (trusted_root.json)", ErrNoTrustedRoot)
	}
	if c.threshold > 1 {
		return keyless{}, fmt.Errorf("%w: a certificate-signed bundle has one signer, %d required", ErrThreshold, c.threshold)
	}
	b, err := bundle.NewBundle(env.bundle)
	if err != nil {
		return keyless{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	vc, err := b.VerificationContent()
	if err != nil {
		return keyless{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	leaf := vc.Certificate()
	if leaf == nil {
		return keyless{}, fmt.Errorf("%w: no signing certificate in the verification material", ErrMalformed)
	}
	summary, err := certificate.SummarizeCertificate(leaf)
	if err != nil {
		return keyless{}, fmt.Errorf("%w: signing certificate: %v", ErrMalformed, err)
	}
	ids := trusted.Identities()
	if len(ids) == 0 {
		return keyless{}, fmt.Errorf("%w: the certificate names %s, and the trust file names no identities", ErrUnknownIdentity, DescribeCertificate(&summary))
	}
	// Observer timestamps are log entries' integrated times and RFC 3161
	// timestamps: the certificate must have been valid at one of them, so
	// the bundle stays verifiable after the short-lived certificate expires.
	vopts := []verify.VerifierOption{verify.WithObserverTimestamps(max(1, c.tl.stampsAsked))}
	if len(c.tl.root.CTLogs()) > 0 {
		vopts = append(vopts, verify.WithSignedCertificateTimestamps(1))
	}
	if c.tl.logs > 0 {
		vopts = append(vopts, verify.WithTransparencyLog(c.tl.logs))
	}
	if c.tl.stampsAsked > 0 {
		vopts = append(vopts, verify.WithSignedTimestamps(c.tl.stampsAsked))
	}
	v, err := verify.NewVerifier(c.tl.root, vopts...)
	if err != nil {
		return keyless{}, fmt.Errorf("%w: %v", ErrTransparency, err)
	}
	popts := make([]verify.PolicyOption, 0, len(ids))
	for _, id := range ids {
		popts = append(popts, verify.WithCertificateIdentity(id.Match))
	}
	res, err := v.Verify(b, verify.NewPolicy(verify.WithoutArtifactUnsafe(), popts...))
	if err != nil {
		if _, ok := errors.AsType[*verify.ErrNoMatchingCertificateIdentity](err); ok {
			_, why := matchIdentities(summary, ids)
			return keyless{}, unknownIdentity(&summary, why)
		}
		return keyless{}, fmt.Errorf("%w: certificate-signed bundle (%s): %v", ErrTransparency, DescribeCertificate(&summary), err)
	}
	// sigstore-go matched issuer, subject and exact claims; the claim
	// patterns are checked here.
	matched, why := matchIdentities(summary, ids)
	if len(matched) == 0 {
		return keyless{}, unknownIdentity(&summary, why)
	}
	out := keyless{certificate: &summary, identities: matched}
	for _, ts := range res.VerifiedTimestamps {
		out.times = append(out.times, ts.Timestamp.UTC())
	}
	sort.Slice(out.times, func(i, j int) bool { return out.times[i].Before(out.times[j]) })
	out.entries = len(env.bundle.GetVerificationMaterial().GetTlogEntries())
	if c.tl.logs == 0 {
		out.entries = 0
	}
	return out, nil
}
