package attest

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

// Errors of certificate-based (keyless) verification, for errors.Is.
var (
	// ErrUnknownIdentity: the certificate verified but names an identity
	// the trusted set does not hold.
	ErrUnknownIdentity = errors.New("signed by an untrusted identity")
	// ErrNoTrustedRoot: a certificate-signed bundle was given without a
	// trusted root to chain it to.
	ErrNoTrustedRoot = errors.New("no trusted root")
	// ErrLegacyFormat: cosign's pre-bundle output formats.
	ErrLegacyFormat = errors.New("legacy cosign format")
)

// IdentityPrefix starts the signer ID of a trusted identity in SignerIDs
// ("identity:NAME"); key IDs are hex and never start with it.
const IdentityPrefix = "identity:"

// Identity is a signer trusted by the OIDC identity that its short-lived
// Fulcio certificate names (keyless signing) rather than by a key.
type Identity struct {
	// Name labels the identity; SignerIDs reports it as "identity:NAME".
	Name string
	// Match is what the certificate must carry: issuer and subject
	// (exact or regular expression) and any Fulcio extensions given.
	Match verify.CertificateIdentity
	// Claims are the Fulcio extensions given as patterns rather than
	// exactly (in Match), e.g. a ref refs/tags/v.*.
	Claims ClaimPatterns
}

// ClaimPatterns are regular expressions that a certificate's Fulcio
// extensions must match, each given one in full: the caller anchors them
// (trust files write "^(?:RE)$"). Nil fields are not checked.
type ClaimPatterns struct {
	SourceRepositoryURI *regexp.Regexp
	SourceRepositoryRef *regexp.Regexp
	BuildConfigURI      *regexp.Regexp
	BuildSignerURI      *regexp.Regexp
	BuildTrigger        *regexp.Regexp
}

// match reports the first of e's claims that does not match its pattern,
// in the words of sigstore-go's certificate.CompareExtensions.
func (p ClaimPatterns) match(e certificate.Extensions) error {
	for _, c := range []struct {
		name string
		re   *regexp.Regexp
		got  string
	}{
		{"SourceRepositoryURI", p.SourceRepositoryURI, e.SourceRepositoryURI},
		{"SourceRepositoryRef", p.SourceRepositoryRef, e.SourceRepositoryRef},
		{"BuildConfigURI", p.BuildConfigURI, e.BuildConfigURI},
		{"BuildSignerURI", p.BuildSignerURI, e.BuildSignerURI},
		{"BuildTrigger", p.BuildTrigger, e.BuildTrigger},
	} {
		if c.re != nil && !c.re.MatchString(c.got) {
			return fmt.Errorf("expected %s to match %s, got %q", c.name, c.re, c.got)
		}
	}
	return nil
}

// SignerID is the identity's entry in Verified.SignerIDs.
func (id Identity) SignerID() string { return IdentityPrefix + id.Name }

// Certificate is the identity a verified signing certificate names: the
// OIDC issuer and subject (the certificate's SAN) and, for CI workloads,
// the Fulcio extensions (repository, ref, workflow, runner, trigger).
type Certificate = certificate.Summary

// DescribeCertificate names the identity of c for messages: issuer,
// subject and, when present, repository, ref and workflow.
func DescribeCertificate(c *Certificate) string {
	if c == nil {
		return "no certificate"
	}
	parts := []string{"issuer " + c.Issuer, "subject " + c.SubjectAlternativeName}
	for _, f := range [][2]string{
		{"repository", c.SourceRepositoryURI}, {"ref", c.SourceRepositoryRef},
		{"workflow", c.BuildConfigURI}, {"runner", c.RunnerEnvironment}, {"trigger", c.BuildTrigger},
	} {
		if f[1] != "" {
			parts = append(parts, f[0]+" "+f[1])
		}
	}
	return strings.Join(parts, ", ")
}

// matchIdentities returns the trusted identities c matches, and for each
// one it does not match, why.
func matchIdentities(c certificate.Summary, ids []Identity) (matched []Identity, why []string) {
	for _, id := range ids {
		if err := matchOne(c, id); err != nil {
			why = append(why, fmt.Sprintf("%s: %v", id.Name, err))
			continue
		}
		matched = append(matched, id)
	}
	return matched, why
}

func matchOne(c certificate.Summary, id Identity) error {
	m := id.Match
	if err := m.Issuer.Verify(c); err != nil {
		return err
	}
	if err := m.SubjectAlternativeName.Verify(c); err != nil {
		return err
	}
	if err := certificate.CompareExtensions(m.Extensions, c.Extensions); err != nil {
		return err
	}
	return id.Claims.match(c.Extensions)
}

// unknownIdentity is the error for a certificate that matches none of the
// trusted identities, with why each did not match.
func unknownIdentity(c *certificate.Summary, why []string) error {
	return fmt.Errorf("%w: the certificate names %s, which matches no trusted identity (%s)", ErrUnknownIdentity, DescribeCertificate(c), strings.Join(why, "; "))
}
