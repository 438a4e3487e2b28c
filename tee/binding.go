package tee

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

// Sizes of the binding layout.
const (
	// ReportDataSize is the size of the report data a [Binding] fills: the
	// SEV-SNP and TDX REPORT_DATA fields are exactly this size.
	ReportDataSize = 64
	// NonceSize is the size of the nonce half of a [Binding].
	NonceSize = 32
)

// Binding ties a quote to a provenance statement. Its report data is
//
//	report_data[0:32]  = SHA-256( DSSE PAE(payloadType, payload) )
//	report_data[32:64] = nonce (32 bytes chosen by the verifier or at random)
//
// and is placed in SEV-SNP REPORT_DATA, TDX REPORTDATA and the Nitro
// user_data (64 bytes each). A TPM quote's qualifying data (extraData) is at
// most as long as the largest digest the TPM implements (48 bytes on the GCE
// vTPM, 32 on SHA-256-only chips), so there it is SHA-256(report_data), 32
// bytes; see [QuotedReportData].
type Binding struct {
	// PAEDigest is SHA-256 of the provenance envelope's DSSE pre-authentication encoding.
	PAEDigest [sha256.Size]byte
	// Nonce makes each quote fresh.
	Nonce [NonceSize]byte
}

// NewBinding binds the DSSE payload (payloadType, payload) with nonce.
func NewBinding(payloadType string, payload []byte, nonce [NonceSize]byte) Binding {
	return BindingFromPAE(dsse.PAE(payloadType, payload), nonce)
}

// BindingFromPAE binds an already-encoded DSSE PAE with nonce.
func BindingFromPAE(pae []byte, nonce [NonceSize]byte) Binding {
	return Binding{PAEDigest: sha256.Sum256(pae), Nonce: nonce}
}

// ReportData returns the 64-byte layout documented on [Binding].
func (b Binding) ReportData() [ReportDataSize]byte {
	var out [ReportDataSize]byte
	copy(out[:sha256.Size], b.PAEDigest[:])
	copy(out[sha256.Size:], b.Nonce[:])
	return out
}

// ParseBinding splits 64 bytes of report data into a Binding.
func ParseBinding(p Platform, reportData []byte) (Binding, error) {
	var b Binding
	if len(reportData) != ReportDataSize {
		return b, Errorf(p, "report_data", ErrBinding, "%d bytes, want %d (sha256(PAE) || nonce)", len(reportData), ReportDataSize)
	}
	copy(b.PAEDigest[:], reportData[:sha256.Size])
	copy(b.Nonce[:], reportData[sha256.Size:])
	return b, nil
}

// QuotedReportData returns the bytes a quote of platform p carries for
// reportData: reportData itself, except for tpm, where it is its SHA-256.
func QuotedReportData(p Platform, reportData [ReportDataSize]byte) []byte {
	if p == TPM {
		sum := sha256.Sum256(reportData[:])
		return sum[:]
	}
	return bytes.Clone(reportData[:])
}

// Quoted returns the bytes a quote of platform p carries for this binding.
func (b Binding) Quoted(p Platform) []byte { return QuotedReportData(p, b.ReportData()) }

// CheckBinding checks that verified claims carry binding b: b.PAEDigest is
// the digest of the provenance the caller verified, b.Nonce the nonce the
// caller issued or read from the predicate.
func CheckBinding(c *Claims, b Binding) error {
	if subtle.ConstantTimeCompare(c.ReportData, b.Quoted(c.Platform)) != 1 {
		return Errorf(c.Platform, "report_data", ErrBinding, "quote carries %s, binding of PAE digest sha256:%s with nonce %s is %s",
			short(c.ReportData), hex.EncodeToString(b.PAEDigest[:]), hex.EncodeToString(b.Nonce[:]), short(b.Quoted(c.Platform)))
	}
	return nil
}
