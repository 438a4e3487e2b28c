// Package sevsnp verifies AMD SEV-SNP attestation reports with
// github.com/google/go-sev-guest, offline, at the time given in the options.
//
// Evidence is either a raw 1184-byte ATTESTATION_REPORT, verified with a VCEK
// certificate cached in the verifier ([WithVCEK]), or a serialized
// go-sev-guest sevsnp.Attestation protobuf carrying the report and its
// certificate chain (what an extended report returns). Either way the VCEK
// must chain to the AMD ASK/ARK roots embedded in go-sev-guest (or the roots
// passed to [WithTrustedRootsUnsafe]); the ASK and ARK inside evidence are
// never trusted. Certificate fetching from AMD's KDS is disabled (no
// network); revocation is checked only against a CRL cached with [WithCRL],
// which must be signed by the ARK and current at the verification time.
//
// After the signature, the report is validated with go-sev-guest's validate
// package under a strict guest policy: no debug (unless
// tee.VerifyOptions.AllowDebugUnsafe), no migration agent, no CXL, the
// reported TCB equal to the VCEK's TCB, committed firmware equal to current,
// and CHIP_ID equal to the VCEK's hardware ID.
package sevsnp
