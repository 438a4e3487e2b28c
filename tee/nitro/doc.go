// Package nitro verifies AWS Nitro Enclaves attestation documents: a
// COSE_Sign1 (ES384) over a CBOR payload whose certificate chains, through
// the document's CA bundle, to the AWS Nitro root pinned by its SHA-256
// fingerprint ([RootFingerprint]). Verification is offline and at the time
// given in the options: the signing certificate lives about three hours, so
// stored documents verify only at a time inside that window.
package nitro
