// Package tpm verifies TPM 2.0 attestations (a go-tpm-tools attest.Attestation
// protobuf: quotes over every PCR bank, the AK public area and certificate,
// and the TCG event log) offline, at the time given in the options, and
// collects them from a TPM.
//
// The AK is trusted either through its certificate chaining to configured
// roots — by default the GCE EK/AK roots bundled in go-tpm-tools, checked
// here at the injected time because go-tpm-tools checks the chain against the
// wall clock — or by pinning AK public keys ([WithTrustedAKs]). The quote, its
// nonce (required) and the event log replay are then checked by
// go-tpm-tools' server.VerifyAttestation on one PCR bank (SHA-256 unless
// [WithPCRBank] says otherwise).
package tpm
