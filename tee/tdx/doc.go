// Package tdx verifies Intel TDX v4 quotes with github.com/google/go-tdx-guest,
// offline, at the time given in the options.
//
// Verification has two steps. The first checks the quote's signature, the
// quoting enclave's report and the PCK certificate chain up to the Intel SGX
// root bundled in go-tdx-guest; it needs no collateral. The second, run when
// the verifier holds cached Intel PCS collateral ([Collateral]: TCB info, QE
// identity, PCK CRL, root CRL and their issuer chains), checks the
// collateral's signatures and validity windows, revocation, and finally the
// platform's TCB status.
//
// Upstream stops with an error at the TCB-status step whenever the status is
// not "UpToDate" — including when the collateral lists no level matching the
// quote, which is what happens with the 2023 sample collateral shipped with
// go-tdx-guest. This package handles that step explicitly: it recomputes the
// status with verify.SupportedTcbLevelsFromCollateral, records it in
// [tee.Claims.TCBStatus] ("NoMatchingLevel" when no level matches) and
// accepts only the statuses the verifier was configured with
// ([WithAcceptedTCBStatuses]; default "UpToDate"), failing with
// tee.ErrTCBStatus otherwise. Caveat: when upstream stops at that step it
// skips its QE identity comparison; a quote accepted with a non-UpToDate
// status has therefore had its QE report signature checked but not its QE
// identity.
package tdx
