package secrets

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"strings"
)

// privateKeyRule is the rule ID of PEM and OpenSSH private keys.
const privateKeyRule = "private-key"

// encryptedKey reports whether pem, the text of a private-key match, is a
// key encrypted under a passphrase: a PEM type that says ENCRYPTED (PKCS#8
// "ENCRYPTED PRIVATE KEY", Sigstore's and cosign's "ENCRYPTED SIGSTORE
// PRIVATE KEY" written by `hallmark keygen`), a legacy OpenSSL block with a
// "Proc-Type: 4,ENCRYPTED" header, or an OpenSSH key whose cipher is not
// "none". Such a key is useless without its passphrase, which is not in the
// file. Anything it cannot tell is not encrypted, so a real key stays a
// finding.
func encryptedKey(pem string) bool {
	header, body, ok := strings.Cut(pem, "\n")
	if !ok {
		return false
	}
	typ := strings.TrimSpace(header)
	typ = strings.TrimPrefix(typ, "-----BEGIN ")
	typ = strings.TrimSuffix(typ, "-----")
	if strings.Contains(typ, "ENCRYPTED") {
		return true
	}
	if strings.Contains(body, "Proc-Type: 4,ENCRYPTED") {
		return true
	}
	if typ == "OPENSSH PRIVATE KEY" {
		return opensshEncrypted(body)
	}
	return false
}

// opensshEncrypted reads the cipher name of an "openssh-key-v1" key from the
// base64 body of its PEM block.
func opensshEncrypted(body string) bool {
	if i := strings.Index(body, "-----END"); i >= 0 {
		body = body[:i]
	}
	b64 := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, body)
	// The cipher name is within the first few dozen bytes.
	if len(b64) > 128 {
		b64 = b64[:128]
	}
	raw, err := base64.StdEncoding.DecodeString(b64[:len(b64)/4*4])
	if err != nil {
		return false
	}
	const magic = "openssh-key-v1\x00"
	if !bytes.HasPrefix(raw, []byte(magic)) || len(raw) < len(magic)+4 {
		return false
	}
	rest := raw[len(magic):]
	n := binary.BigEndian.Uint32(rest)
	if uint64(n) > uint64(len(rest)-4) || n == 0 {
		return false
	}
	return string(rest[4:4+n]) != "none"
}
