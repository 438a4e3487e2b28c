package rules

import (
	"bytes"
	"encoding/base64"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file is gitleaks' decoder (detect/codec, v8.30.1) with its one
// expensive step, finding the encoded segments, done by a hand-written scan
// instead of a regular expression over the whole text. gitleaks runs its
// combined pattern
//
//	(?P<percent>%[0-9A-Fa-f]{2}(?:.*%[0-9A-Fa-f]{2})?)
//	|(?P<unicode>(?:U\+[a-fA-F0-9]{4}(?:\s|$))+|(?i)(?:\\{1,2}u[a-fA-F0-9]{4})+)
//	|(?P<hex>[0-9A-Fa-f]{32,})
//	|(?P<base64>[\w\/+-]{16,}={0,2})
//
// at about 1 MB/s; encodingMatches finds the same leftmost-first matches in
// one linear pass. Segments, their bookkeeping across passes (positions in
// the original text, tags, the current line) and the decoders are gitleaks'
// own, ported so that the engine's findings stay identical to gitleaks';
// TestEngineMatchesGitleaks and FuzzEngine compare them.

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

func printableASCII(b []byte) bool {
	for _, c := range b {
		if !isPrintable[c] {
			return false
		}
	}
	return true
}

// encKind is a set of encodings (gitleaks' encodingKind).
type encKind int

const (
	encPercent encKind = 1 << iota
	encUnicode
	encHex
	encBase64
)

var encNames = [...]string{"percent", "unicode", "hex", "base64"}

// precedence decides which of two touching matches is decoded in this pass.
func (k encKind) precedence() int {
	switch k {
	case encPercent:
		return 4
	case encUnicode:
		return 3
	case encHex:
		return 2
	}
	return 1
}

// startEnd is a half-open range of offsets.
type startEnd struct{ start, end int }

func (s startEnd) sub(o startEnd) startEnd { return startEnd{s.start - o.start, s.end - o.end} }
func (s startEnd) add(o startEnd) startEnd { return startEnd{s.start + o.start, s.end + o.end} }

// overlaps is true for ranges that overlap or touch, as in gitleaks.
func (s startEnd) overlaps(o startEnd) bool     { return o.start <= s.end && o.end >= s.start }
func (s startEnd) contains(o startEnd) bool     { return s.start <= o.start && o.end <= s.end }
func (s startEnd) overflow(o startEnd) startEnd { return s.merge(o).sub(s) }
func (s startEnd) merge(o startEnd) startEnd {
	return startEnd{min(s.start, o.start), max(s.end, o.end)}
}

// segment is a part of the text decoded in one pass (gitleaks'
// EncodedSegment).
type segment struct {
	preds    []*segment // all segments of the previous pass
	original startEnd   // in the original text
	encoded  startEnd   // in the previous pass's text
	decoded  startEnd   // in this pass's text
	value    string     // decoded value
	kinds    encKind
	depth    int
}

type encMatch struct {
	kind encKind
	startEnd
}

// isSpaceRE is \s of Go's regexp syntax: [\t\n\f\r ].
var isSpaceRE = byteClass(func(b byte) bool { return b == '\t' || b == '\n' || b == '\f' || b == '\r' || b == ' ' })

// encodingMatches returns the matches of gitleaks' combined encoding pattern
// in s, then drops each that touches a neighbour of higher precedence, as
// gitleaks' findEncodingMatches does. At each offset the alternatives are
// tried in the pattern's order and the first that matches wins (leftmost-
// first semantics); the scan resumes where the match ends.
func encodingMatches(s string) []encMatch {
	var all []encMatch
	n := len(s)
	hexEnd, b64End := 0, 0 // end of the hex / base64-class run from i
	for i := 0; i < n; {
		c := s[i]
		switch c {
		case '%':
			if i+2 < n && isHex[s[i+1]] && isHex[s[i+2]] {
				// `.*%XX` is greedy: up to the last %XX on the line.
				end := i + 3
				lineEnd := n
				if k := strings.IndexByte(s[i+3:], '\n'); k >= 0 {
					lineEnd = i + 3 + k
				}
				for j := lineEnd - 3; j >= i+3; j-- {
					if s[j] == '%' && isHex[s[j+1]] && isHex[s[j+2]] {
						end = j + 3
						break
					}
				}
				all = append(all, encMatch{encPercent, startEnd{i, end}})
				i = end
				continue
			}
		case 'U':
			j := i
			for j+6 <= n && s[j] == 'U' && s[j+1] == '+' && hexRun(s, j+2, 4) {
				if j+6 == n { // (?:\s|$) at the end of the text
					j = n
					break
				}
				if !isSpaceRE[s[j+6]] {
					break
				}
				j += 7
			}
			if j > i {
				all = append(all, encMatch{encUnicode, startEnd{i, j}})
				i = j
				continue
			}
		case '\\':
			j := i
			for j < n && s[j] == '\\' {
				if j+2 < n && s[j+1] == '\\' && (s[j+2] == 'u' || s[j+2] == 'U') && hexRun(s, j+3, 4) {
					j += 7
				} else if j+1 < n && (s[j+1] == 'u' || s[j+1] == 'U') && hexRun(s, j+2, 4) {
					j += 6
				} else {
					break
				}
			}
			if j > i {
				all = append(all, encMatch{encUnicode, startEnd{i, j}})
				i = j
				continue
			}
		}
		if !isB64[c] {
			i++
			continue
		}
		if hexEnd <= i {
			hexEnd = i
			for hexEnd < n && isHex[s[hexEnd]] {
				hexEnd++
			}
		}
		if b64End <= i {
			b64End = i
			for b64End < n && isB64[s[b64End]] {
				b64End++
			}
		}
		switch {
		case hexEnd-i >= 32:
			all = append(all, encMatch{encHex, startEnd{i, hexEnd}})
			i = hexEnd
		case b64End-i >= 16:
			end := b64End
			for k := 0; k < 2 && end < n && s[end] == '='; k++ {
				end++
			}
			all = append(all, encMatch{encBase64, startEnd{i, end}})
			i = end
		default:
			// No hex or base64 match starts later in this run either (its
			// runs from there are shorter; hex bytes are base64 bytes), so
			// only a 'U' (of U+XXXX) in it needs a look.
			i++
			for i < b64End && s[i] != 'U' {
				i++
			}
		}
	}
	if len(all) <= 1 {
		return all
	}
	filtered := make([]encMatch, 0, len(all))
	for i, m := range all {
		if i > 0 && m.overlaps(all[i-1].startEnd) && all[i-1].kind.precedence() > m.kind.precedence() {
			continue
		}
		if i+1 < len(all) && m.overlaps(all[i+1].startEnd) && all[i+1].kind.precedence() > m.kind.precedence() {
			continue
		}
		filtered = append(filtered, m)
	}
	return filtered
}

// decodeText is gitleaks' Decoder.Decode: data with its encoded segments
// replaced by their decoded values, and the segments.
func decodeText(data string, preds []*segment) (string, []*segment) {
	if data == "" {
		return data, nil
	}
	ms := encodingMatches(data)
	segs := make([]*segment, 0, len(ms))
	shift := 0
	for _, m := range ms {
		enc := data[m.start:m.end]
		var dec string
		switch m.kind {
		case encPercent:
			dec = decodePercent(enc)
		case encUnicode:
			dec = decodeUnicode(enc)
		case encHex:
			dec = decodeHex(enc)
		default:
			dec = decodeBase64(enc)
		}
		if dec == "" {
			continue
		}
		sg := &segment{
			preds:    preds,
			original: toOriginal(preds, m.startEnd),
			encoded:  m.startEnd,
			decoded:  startEnd{m.start + shift, m.start + shift + len(dec)},
			value:    dec,
			kinds:    m.kind,
			depth:    1,
		}
		shift += len(dec) - len(enc)
		if len(preds) != 0 {
			sg.depth = 1 + preds[0].depth
			for _, p := range preds {
				if sg.encoded.overlaps(p.decoded) {
					sg.kinds |= p.kinds
				}
			}
		}
		segs = append(segs, sg)
	}
	if len(segs) == 0 {
		return data, segs
	}
	var b strings.Builder
	b.Grow(len(data) + max(shift, 0))
	at := 0
	for _, sg := range segs {
		b.WriteString(data[at:sg.encoded.start])
		b.WriteString(sg.value)
		at = sg.encoded.end
	}
	b.WriteString(data[at:])
	return b.String(), segs
}

// segTags is gitleaks' codec.Tags.
func segTags(segs []*segment) []string {
	if len(segs) == 0 {
		return []string{}
	}
	kinds := segs[0].kinds
	for _, s := range segs[1:] {
		kinds |= s.kinds
	}
	var tags []string
	for i, name := range encNames {
		if kinds&(1<<i) != 0 {
			tags = append(tags, "decoded:"+name)
		}
	}
	return append(tags, "decode-depth:"+strconv.Itoa(segs[0].depth))
}

// segCurrentLine is gitleaks' codec.CurrentLine.
func segCurrentLine(segs []*segment, raw string) string {
	if len(segs) == 0 {
		return raw
	}
	start, end := 0, len(raw)
	d := segs[0].decoded
	for _, s := range segs[1:] {
		d = d.merge(s.decoded)
	}
	for i := d.start; i > -1; i-- {
		if raw[i] == '\n' {
			start = i
			break
		}
	}
	for i := d.end; i < end; i++ {
		if raw[i] == '\n' {
			end = i
			break
		}
	}
	return raw[start:end]
}

// segOverlap is gitleaks' codec.SegmentsWithDecodedOverlap.
func segOverlap(segs []*segment, start, end int) []*segment {
	se := startEnd{start, end}
	var out []*segment
	for _, s := range segs {
		if s.decoded.overlaps(se) {
			out = append(out, s)
		}
	}
	return out
}

// anySegOverlap reports whether segOverlap would return something.
func anySegOverlap(segs []*segment, start, end int) bool {
	se := startEnd{start, end}
	for _, s := range segs {
		if s.decoded.overlaps(se) {
			return true
		}
	}
	return false
}

// toOriginal is gitleaks' mapping of a range in a pass's decoded text to the
// original text.
func toOriginal(preds []*segment, decoded startEnd) startEnd {
	if len(preds) == 0 {
		return decoded
	}
	encoded := startEnd{}
	for _, p := range preds {
		if !p.decoded.overlaps(decoded) {
			continue
		}
		if p.decoded.contains(decoded) {
			return p.original
		}
		if encoded.end == 0 {
			encoded = p.encoded.add(p.decoded.overflow(decoded))
		} else {
			encoded = encoded.merge(p.encoded.add(p.decoded.overflow(decoded)))
		}
	}
	if encoded.end == 0 {
		return decoded
	}
	return toOriginal(preds[0].preds, encoded)
}

// The decoders below are gitleaks' (detect/codec), unchanged in behaviour.

func decodeBase64(v string) string {
	likely := false
	for i := 0; i < len(v); i++ {
		if likelyB64[v[i]] {
			likely = true
			break
		}
	}
	if !likely {
		return ""
	}
	if b, err := base64.StdEncoding.DecodeString(v); err == nil && printableASCII(b) {
		return string(b)
	}
	if b, err := base64.RawURLEncoding.DecodeString(v); err == nil && printableASCII(b) {
		return string(b)
	}
	return ""
}

func decodeHex(v string) string {
	if len(v)%2 != 0 || strings.IndexFunc(v, func(r rune) bool { return r < 256 && isDigit[r] }) < 0 {
		return ""
	}
	out := make([]byte, len(v)/2)
	for i := 0; i < len(v); i += 2 {
		b := hexVal(v[i])<<4 | hexVal(v[i+1])
		if !isPrintable[b] {
			return ""
		}
		out[i/2] = b
	}
	return string(out)
}

func decodePercent(v string) string {
	out := make([]byte, 0, len(v))
	for i := 0; i < len(v); {
		if v[i] == '%' && i+2 < len(v) && isHex[v[i+1]] && isHex[v[i+2]] {
			b := hexVal(v[i+1])<<4 | hexVal(v[i+2])
			if !isPrintable[b] {
				return ""
			}
			out = append(out, b)
			i += 3
			continue
		}
		out = append(out, v[i])
		i++
	}
	return string(out)
}

// unicodeCodec holds gitleaks' patterns for unicode escapes; they run only
// over segments already found, never over the whole text.
type unicodeCodec struct {
	codePoint, multiCodePoint, escape, multiEscape *regexp.Regexp
}

var unicodeRE = unicodeCodec{
	codePoint:      regexp.MustCompile(`U\+([a-fA-F0-9]{4}).?`),
	multiCodePoint: regexp.MustCompile(`(?:U\+[a-fA-F0-9]{4}(?:\s|$))+`),
	escape:         regexp.MustCompile(`(?i)\\{1,2}u([a-fA-F0-9]{4})`),
	multiEscape:    regexp.MustCompile(`(?i)(?:\\{1,2}u[a-fA-F0-9]{4})+`),
}

func decodeUnicode(v string) string {
	re := &unicodeRE
	if ms := re.multiCodePoint.FindAllString(v, -1); len(ms) > 0 {
		for _, m := range ms {
			if d := decodeMultiCodePoint(m); d != "" && d != m {
				v = strings.Replace(v, m, d, 1)
			}
		}
		return v
	}
	if ms := re.multiEscape.FindAllString(v, -1); len(ms) > 0 {
		for _, m := range ms {
			if d := decodeMultiEscape(m); d != "" && d != m {
				v = strings.Replace(v, m, d, 1)
			}
		}
		return v
	}
	data := []byte(v)
	var result []byte
	if re.codePoint.Match(data) {
		result = decodeIndividual(re.codePoint, data, true)
	}
	if len(result) == 0 || re.escape.Match(data) {
		if len(result) > 0 {
			result = decodeIndividual(re.escape, result, false)
		} else {
			result = decodeIndividual(re.escape, data, false)
		}
	}
	if len(result) == 0 || bytes.Equal(result, data) {
		return v
	}
	return string(result)
}

func decodeMultiCodePoint(seq string) string {
	if seq == "" {
		return ""
	}
	fields := strings.Fields(seq)
	if len(fields) == 0 {
		return seq
	}
	var rs []rune
	for _, cp := range fields {
		if !strings.HasPrefix(cp, "U+") || len(cp) < 6 {
			continue
		}
		if n, err := strconv.ParseInt(cp[2:], 16, 32); err == nil {
			rs = append(rs, rune(n))
		}
	}
	if len(rs) == 0 {
		return seq
	}
	return string(rs)
}

func decodeMultiEscape(seq string) string {
	if seq == "" {
		return ""
	}
	escs := unicodeRE.escape.FindAllStringSubmatch(seq, -1)
	if len(escs) == 0 {
		return seq
	}
	var rs []rune
	for _, e := range escs {
		if n, err := strconv.ParseInt(e[1], 16, 32); err == nil {
			rs = append(rs, rune(n))
		}
	}
	if len(rs) == 0 {
		return seq
	}
	return string(rs)
}

// decodeIndividual is gitleaks' decodeIndividualCodePoints (codePoints) and
// decodeIndividualEscapes.
func decodeIndividual(re *regexp.Regexp, input []byte, codePoints bool) []byte {
	idx := re.FindAllSubmatchIndex(input, -1)
	if len(idx) == 0 {
		return input
	}
	buf := make([]byte, utf8.UTFMax)
	for i := len(idx) - 1; i >= 0; i-- {
		m := idx[i]
		start, end, hexStart, hexEnd := m[0], m[1], m[2], m[3]
		if codePoints {
			if end != hexEnd && end < len(input) && input[end-1] == ' ' {
				end--
			}
		} else {
			end = hexEnd
		}
		n, err := strconv.ParseInt(string(input[hexStart:hexEnd]), 16, 32)
		if err != nil {
			continue
		}
		w := utf8.EncodeRune(buf, rune(n))
		input = append(input[:start], append(buf[:w], input[end:]...)...)
	}
	return input
}
