package tee

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
)

// Detect guesses the platform of evidence from its framing, for callers that
// were not told: a COSE_Sign1 (raw or base64) is nitro, a v4 quote with TEE
// type 0x81 is tdx, a 1184-byte report of version 2 to 5 is sev-snp. Protobuf
// evidence (tpm, sev-snp with certificates) has no magic number; Detect then
// returns an error wrapping ErrUnknownPlatform and the caller must name the
// platform. Detect never verifies anything.
func Detect(evidence []byte) (Platform, error) {
	const sevReportSize = 0x4A0
	switch {
	case isCOSESign1(evidence):
		return Nitro, nil
	case len(evidence) >= 48 && binary.LittleEndian.Uint16(evidence[0:2]) == 4 && binary.LittleEndian.Uint32(evidence[4:8]) == 0x81:
		return TDX, nil
	case len(evidence) == sevReportSize && binary.LittleEndian.Uint32(evidence[0:4]) >= 2 && binary.LittleEndian.Uint32(evidence[0:4]) <= 5:
		return SEVSNP, nil
	}
	if len(evidence) > 0 && len(evidence) <= MaxNitroEvidence && (evidence[0] == 'h' || evidence[0] == '0') {
		// "hEShATgi" / "0oRE" are the base64 forms of untagged and tagged COSE_Sign1 with an ES384 header.
		if raw, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(evidence))); err == nil && isCOSESign1(raw) {
			return Nitro, nil
		}
	}
	return "", fmt.Errorf("%w: cannot tell the platform from the evidence; name it (sev-snp, tdx, tpm, nitro)", ErrUnknownPlatform)
}

// isCOSESign1 reports an untagged (0x84) or tagged (0xd2 0x84) four-element
// array whose first element is a byte string (the protected header).
func isCOSESign1(b []byte) bool {
	if len(b) > 2 && b[0] == 0xd2 {
		b = b[1:]
	}
	return len(b) > 2 && b[0] == 0x84 && b[1]&0xe0 == 0x40
}
