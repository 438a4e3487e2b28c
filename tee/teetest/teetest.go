package teetest

import (
	"embed"
	"encoding/base64"
	"fmt"
	"strings"
	"time"
)

//go:embed testdata
var files embed.FS

func read(name string) []byte {
	b, err := files.ReadFile("testdata/" + name)
	if err != nil {
		panic(fmt.Sprintf("teetest: embedded file %s: %v", name, err)) // embedded at build time; cannot fail
	}
	return b
}

// Today is the date the suite treats as "now" for expiry checks: the Nitro
// signing certificates and the 2023 TDX collateral have expired by then.
var Today = time.Date(2026, time.November, 25, 0, 0, 0, 0, time.UTC)

// SEV-SNP sample: a Milan debug guest (go-sev-guest v0.15.0 verify/testdata).
var (
	// SEVSNPAt lies inside the VCEK's validity (2022-09-24 to 2029-09-24).
	SEVSNPAt = time.Date(2023, time.January, 1, 0, 0, 0, 0, time.UTC)
)

// SEVSNPReport returns the raw 1184-byte attestation report.
func SEVSNPReport() []byte { return read("sevsnp/attestation.bin") }

// SEVSNPVCEK returns the DER VCEK certificate that signed [SEVSNPReport].
func SEVSNPVCEK() []byte { return read("sevsnp/vcek.testcer") }

// SEVSNPAskArk returns the PEM Milan ASK and ARK certificates.
func SEVSNPAskArk() []byte { return read("sevsnp/milan.testcer") }

// TDX sample: a Sapphire Rapids production quote (go-tdx-guest v0.3.1).
var (
	// TDXAt lies inside the PCK chain's and the 2023 collateral's validity
	// (TCB info issued 2023-06-18, QE identity valid until 2023-07-08).
	TDXAt = time.Date(2023, time.July, 1, 1, 0, 0, 0, time.UTC)
)

// TDXQuote returns the raw TDX v4 quote.
func TDXQuote() []byte { return read("tdx/tdx_prod_quote_SPR_E4.dat") }

// TDXCollateral is the cached Intel PCS collateral for [TDXQuote].
type TDXCollateral struct {
	TCBInfo, TCBInfoIssuerChain        []byte
	QEIdentity, QEIdentityIssuerChain  []byte
	PCKCRL, PCKCRLIssuerChain, RootCRL []byte
}

// TDXCollateralFiles returns the collateral of the TDX sample's day.
func TDXCollateralFiles() TDXCollateral {
	return TDXCollateral{
		TCBInfo:               read("tdx/sample_tcbInfo_response"),
		TCBInfoIssuerChain:    read("tdx/tcbinfo_issuer_chain.pem"),
		QEIdentity:            read("tdx/sample_qeIdentity_response"),
		QEIdentityIssuerChain: read("tdx/qeidentity_issuer_chain.pem"),
		PCKCRL:                read("tdx/pckcrl"),
		PCKCRLIssuerChain:     read("tdx/pckcrl_issuer_chain.pem"),
		RootCRL:               read("tdx/rootcrl.der"),
	}
}

// TPM sample: GCE Confidential VM, COS 85 (go-tpm-tools v0.4.11).
var (
	// TPMAt lies inside the AK certificate's validity (2021-08-31 to 2051-08-24).
	TPMAt = time.Date(2022, time.January, 1, 0, 0, 0, 0, time.UTC)
)

// TPMNonce returns the nonce the TPM sample was quoted with.
func TPMNonce() []byte { return []byte{0x90, 0x09} }

// TPMAttestation returns the go-tpm-tools attest.Attestation protobuf.
func TPMAttestation() []byte { return read("tpm/gce-cos-85-nonce9009.pb") }

// Nitro samples: captured 2024-09-07 14:37:39.545 UTC (blocky/nitrite).
var (
	// NitroAt lies inside the signing certificate's three-hour validity.
	NitroAt = time.Date(2024, time.September, 7, 14, 40, 0, 0, time.UTC)
)

// NitroDocument returns the production enclave's raw COSE_Sign1 document.
func NitroDocument() []byte { return decodeB64("nitro/nitro_attestation.b64") }

// NitroDebugDocument returns the same enclave's document in debug mode.
func NitroDebugDocument() []byte { return decodeB64("nitro/nitro_attestation_debug.b64") }

func decodeB64(name string) []byte {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(read(name))))
	if err != nil {
		panic(fmt.Sprintf("teetest: embedded file %s: %v", name, err))
	}
	return b
}
