// Package teetest provides canned, real TEE evidence for tests (like
// net/http/httptest): an AMD SEV-SNP report with its VCEK and Milan chain, an
// Intel TDX quote with the Intel PCS collateral of its day, a TPM 2.0
// attestation from a GCE Confidential VM and two AWS Nitro Enclaves
// documents, together with a time inside each sample's validity window, and
// a helper that flips bits across the signed regions of evidence.
//
// The samples were captured on real hardware and published as test data by
// github.com/google/go-sev-guest, github.com/google/go-tdx-guest,
// github.com/google/go-tpm-tools (Apache-2.0) and github.com/blocky/nitrite
// (MIT); the licences sit next to the files in testdata/.
package teetest
