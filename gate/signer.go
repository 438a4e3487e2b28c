package gate

import (
	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/trust"
)

// signerOf describes to policy the trusted signer signerID of evidence
// signed with certificate cert (nil for a key): its roles, who it is (for
// a certificate without a declared person, its subject), and for a keyless
// signer the identity its certificate names and the hosted-builder level
// the trust file declares for it.
func signerOf(tr *trust.Trust, cert *attest.Certificate, signerID string) policy.Signer {
	s := policy.Signer{KeyID: signerID, Roles: roleNames(tr.Roles(signerID)), Person: tr.Person(signerID),
		HostedBuildLevel: tr.HostedBuildLevel(signerID)}
	if c := cert; c != nil {
		s.Identity = &policy.SignerIdentity{
			Issuer: c.Issuer, Subject: c.SubjectAlternativeName,
			Repository: c.SourceRepositoryURI, Ref: c.SourceRepositoryRef, Commit: c.SourceRepositoryDigest,
			Workflow: c.BuildConfigURI, BuildSigner: c.BuildSignerURI,
			RunnerEnvironment: c.RunnerEnvironment, BuildTrigger: c.BuildTrigger,
		}
		if s.Person == "" {
			s.Person = c.SubjectAlternativeName
		}
	}
	if s.Person == "" {
		s.Person = signerID
	}
	return s
}
