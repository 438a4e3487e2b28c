// Package tee verifies hardware trusted-execution evidence and binds build
// provenance to it.
//
// A [Verifier] checks one platform's evidence (an AMD SEV-SNP report, an Intel
// TDX quote, a TPM 2.0 quote with its event log, an AWS Nitro Enclaves
// attestation document) offline, at an injected time, up to the vendor's root,
// and returns normalised [Claims]. The platform verifiers live in the
// subpackages sevsnp, tdx, tpm and nitro; a [Registry] built by the caller
// maps a [Platform] to its verifier (there is no global registration).
//
// [ReferenceValues] is the documented JSON file of expected measurements per
// platform; [DeriveReferenceValues] builds one from a trusted sample. A
// [Binding] ties a quote to a provenance statement: the quote's report data
// carries SHA-256 of the DSSE pre-authentication encoding of the provenance
// followed by a 32-byte nonce. [Predicate] is the in-toto predicate
// (type [PredicateType]) that stores the evidence next to the binding.
//
// Every error returned by a verifier is a [*Error] naming the platform, the
// field and the problem, wrapping one of the sentinel errors (ErrSignature,
// ErrChain, ErrExpired, ...), so callers can test it with errors.Is.
package tee
