package rules

import (
	"encoding/base64"
	"strings"
)

// Character classes of gitleaks' decoder patterns.
var (
	isHex = byteClass(func(b byte) bool { return '0' <= b && b <= '9' || 'a' <= b && b <= 'f' || 'A' <= b && b <= 'F' })
	isB64 = byteClass(func(b byte) bool {
		return isHex[b] || 'g' <= b && b <= 'z' || 'G' <= b && b <= 'Z' || b == '_' || b == '/' || b == '+' || b == '-'
	})
	isPrintable = byteClass(func(b byte) bool { return 0x08 < b && b < 0x7f })
	likelyB64   = byteClass(func(b byte) bool { return '0' <= b && b <= '9' || b == '+' || b == '/' || b == '-' || b == '_' })
	isDigit     = byteClass(func(b byte) bool { return '0' <= b && b <= '9' })
)

func byteClass(in func(byte) bool) (set [256]bool) {
	for c := range 256 {
		set[c] = in(byte(c))
	}
	return set
}

// mayDecode reports whether gitleaks' decoder could find an encoded segment
// in text that decodes to something (percent, unicode escapes, hex of 32+
// digits, base64 of 16+ characters, decoding to printable ASCII). When it
// returns false the decoder certainly finds none, so the decoding pass, which
// costs as much as matching, is skipped; when true the decoder runs. It walks
// the text as the decoder's combined pattern does: at each offset the first
// encoding that matches there wins and the scan resumes after it.
func mayDecode(text string) bool {
	n := len(text)
	hexEnd, b64End := 0, 0 // end of the hex / base64-class run containing i
	for i := 0; i < n; {
		c := text[i]
		if c == '%' && i+2 < n && isHex[text[i+1]] && isHex[text[i+2]] {
			return true // percent: decodes to something unless a byte is unprintable
		}
		if c == 'U' && i+5 < n && text[i+1] == '+' && hexRun(text, i+2, 4) {
			if i+6 == n || isSpace(text[i+6]) {
				return true // U+XXXX code points
			}
		}
		if c == '\\' {
			j := i + 1
			if j < n && text[j] == '\\' {
				j++
			}
			if j < n && (text[j] == 'u' || text[j] == 'U') && hexRun(text, j+1, 4) {
				return true // \uXXXX escapes
			}
		}
		if !isB64[c] {
			i++
			continue
		}
		if hexEnd <= i {
			hexEnd = i
			for hexEnd < n && isHex[text[hexEnd]] {
				hexEnd++
			}
		}
		if b64End <= i {
			b64End = i
			for b64End < n && isB64[text[b64End]] {
				b64End++
			}
		}
		if hexEnd-i >= 32 {
			if hexDecodes(text[i:hexEnd]) {
				return true
			}
			i = hexEnd
			continue
		}
		if b64End-i >= 16 {
			end := b64End
			for k := 0; k < 2 && end < n && text[end] == '='; k++ {
				end++
			}
			if b64Decodes(text[i:end]) {
				return true
			}
			i = end
			continue
		}
		i++
	}
	return false
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func hexRun(text string, i, k int) bool {
	if i+k > len(text) {
		return false
	}
	for j := i; j < i+k; j++ {
		if !isHex[text[j]] {
			return false
		}
	}
	return true
}

func hexVal(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// hexDecodes: gitleaks decodes an even-length hex value with a decimal digit
// when every byte is printable.
func hexDecodes(v string) bool {
	if len(v)%2 != 0 || strings.IndexFunc(v, func(r rune) bool { return r < 256 && isDigit[r] }) < 0 {
		return false
	}
	for i := 0; i < len(v); i += 2 {
		if !isPrintable[hexVal(v[i])<<4|hexVal(v[i+1])] {
			return false
		}
	}
	return true
}

// b64Decodes: gitleaks decodes a base64 value (standard with padding, else
// raw URL-safe) that has a digit or one of +/-_ when it decodes to printable
// ASCII.
func b64Decodes(v string) bool {
	likely := false
	for i := 0; i < len(v); i++ {
		if likelyB64[v[i]] {
			likely = true
			break
		}
	}
	if !likely {
		return false
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(v); err == nil && printableASCII(b) {
			return true
		}
	}
	return false
}

func printableASCII(b []byte) bool {
	for _, c := range b {
		if !isPrintable[c] {
			return false
		}
	}
	return true
}
