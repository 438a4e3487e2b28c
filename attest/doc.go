// Package attest signs and verifies Hallmark evidence.
//
// Every claim is an in-toto Statement v1 (https://in-toto.io/Statement/v1)
// serialized as the payload of a DSSE envelope with payload type
// "application/vnd.in-toto+json", carried in a Sigstore bundle v0.3
// ("application/vnd.dev.sigstore.bundle.v0.3+json") whose verification
// material is the signer's public key hint (its key ID).
//
// Parsing yields nothing usable on its own: only Verify returns a *Verified,
// and the store, policy and UI accept only *Verified values, so input that
// fails verification never enters them.
package attest
