// Package trust reads the trust file: which public keys are trusted, and for
// which roles (builder, rebuilder, scanner, approver, gate). Evidence counts
// only when its signature verifies against a key trusted for the role its
// kind of evidence needs; Roles answers that question.
//
// The file is YAML (JSON is YAML too):
//
//	version: 1
//	keys:
//	  - name: ci-builder          # a label for people
//	    publicKey: keys/ci.pub    # PEM file, relative to the trust file
//	    roles: [builder, scanner]
//	  - name: alice
//	    publicKeyPEM: |           # or the PEM inline
//	      -----BEGIN PUBLIC KEY-----
//	      ...
//	    roles: [approver]
//	tee:
//	  referenceValues: tee-reference.json   # optional, relative path
//
// A key may also be pinned by ID (`keyId: <hex>`), which must then match the
// key's computed ID, and name who holds it (`person: alice@example.com`), so
// that several keys of one person count as one approver.
//
// Signers without keys (Sigstore keyless: a Fulcio certificate naming an
// OIDC identity) are listed under identities, each with an issuer and a
// subject (exact, or an anchored regular expression with issuerRegexp and
// subjectRegexp), optional Fulcio extensions that must equal the
// certificate's (sourceRepositoryURI, sourceRepositoryRef, buildConfigURI,
// buildSignerURI, runnerEnvironment, buildTrigger; all but
// runnerEnvironment may instead be given as an anchored regular expression,
// e.g. sourceRepositoryRefRegexp), roles, and for CI a hosted-builder
// declaration:
//
//	identities:
//	  - name: release-workflow
//	    issuer: https://token.actions.githubusercontent.com
//	    subjectRegexp: https://github\.com/acme/app/\.github/workflows/release\.yml@refs/tags/v.*
//	    sourceRepositoryURI: https://github.com/acme/app
//	    runnerEnvironment: github-hosted
//	    roles: [builder]
//	    hostedBuilder: {slsaBuildLevel: 2}
//
// Such evidence verifies only against a Sigstore trusted root. Its signer
// ID is "identity:NAME". See docs/identities.md.
package trust
