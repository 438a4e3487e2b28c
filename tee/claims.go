package tee

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"time"
)

// Claims are the normalised facts a verifier extracted from evidence whose
// signature and certificate chain it checked. Only a [Verifier] produces
// Claims; policy and the store accept nothing else.
type Claims struct {
	// Platform is the evidence platform.
	Platform Platform `json:"platform"`
	// Measurements maps a measurement name to its lowercase hex value. Names
	// per platform: sev-snp "measurement", "host_data", "id_key_digest",
	// "author_key_digest", "family_id", "image_id"; tdx "mr_td",
	// "mr_config_id", "mr_owner", "mr_owner_config", "rtmr0".."rtmr3",
	// "mr_seam", "mr_signer_seam"; tpm "pcr0".."pcr23" of the verified bank;
	// nitro "pcr0".."pcr15" as present in the document.
	Measurements map[string]string `json:"measurements"`
	// SecurityVersions maps a security-version name to its value, e.g.
	// sev-snp "guest_svn", "tcb_bootloader", "tcb_tee", "tcb_snp",
	// "tcb_microcode"; tdx "qe_svn", "pce_svn", "tee_tcb_svn_0"...; tpm and
	// nitro carry none.
	SecurityVersions map[string]uint64 `json:"securityVersions,omitempty"`
	// TCBStatus is the platform TCB status from vendor collateral (tdx only),
	// e.g. "UpToDate", or "NoMatchingLevel" when the collateral lists no level
	// matching the quote.
	TCBStatus string `json:"tcbStatus,omitempty"`
	// Debug reports a debuggable guest or enclave, whose memory the host can read.
	Debug bool `json:"debug"`
	// ReportData is the caller-chosen data the quote signs: sev-snp and tdx
	// REPORT_DATA (64 bytes), the tpm quote's qualifying data (extraData) and
	// the nitro user_data. A Hallmark [Binding] lives here (see [Binding.Quoted]).
	ReportData HexBytes `json:"reportData,omitempty"`
	// Nonce is the evidence's own nonce field: the tpm qualifying data and the
	// nitro nonce; sev-snp and tdx have none (their freshness is in ReportData).
	Nonce HexBytes `json:"nonce,omitempty"`
	// PublicKey is the nitro document's public_key field, if any.
	PublicKey []byte `json:"publicKey,omitempty"`
	// IssuedAt is the time the evidence states it was produced (nitro), zero if unknown.
	IssuedAt time.Time `json:"issuedAt,omitzero"`
	// Signer summarises the certificate chain that signed the evidence.
	Signer Signer `json:"signer"`
	// Attributes carries other platform facts as strings, e.g. sev-snp
	// "product", "chip_id", "policy"; tpm "pcr_bank", "gce_project_id";
	// nitro "module_id", "digest".
	Attributes map[string]string `json:"attributes,omitempty"`
}

// Signer summarises the certificate chain that vouches for evidence.
type Signer struct {
	// Chain lists certificate subjects from the signing certificate up to the
	// root, e.g. ["SEV-VCEK", "SEV-Milan", "ARK-Milan"].
	Chain []string `json:"chain"`
	// RootSHA256 is the lowercase hex SHA-256 of the root certificate's DER.
	RootSHA256 string `json:"rootSHA256,omitempty"`
	// NotAfter is the earliest expiry in the chain: the evidence stops
	// verifying after it.
	NotAfter time.Time `json:"notAfter,omitzero"`
}

// SignerFromChain summarises a verified chain ordered leaf first, root last.
func SignerFromChain(chain []*x509.Certificate) Signer {
	var s Signer
	for _, c := range chain {
		s.Chain = append(s.Chain, c.Subject.CommonName)
		if s.NotAfter.IsZero() || c.NotAfter.Before(s.NotAfter) {
			s.NotAfter = c.NotAfter.UTC()
		}
	}
	if n := len(chain); n > 0 {
		sum := sha256.Sum256(chain[n-1].Raw)
		s.RootSHA256 = hex.EncodeToString(sum[:])
	}
	return s
}
