package rules

import (
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/zricethezav/gitleaks/v8/detect/codec"
)

// gitleaksEncodings is gitleaks' combined encoding pattern (detect/codec,
// v8.30.1), built the same way, the reference for encodingMatches.
var gitleaksEncodings = regexp.MustCompile(`(?P<percent>%[0-9A-Fa-f]{2}(?:.*%[0-9A-Fa-f]{2})?)|` +
	`(?P<unicode>(?:(?:U\+[a-fA-F0-9]{4}(?:\s|$))+|(?i)(?:\\{1,2}u[a-fA-F0-9]{4})+))|` +
	`(?P<hex>[0-9A-Fa-f]{32,})|(?P<base64>[\w\/+-]{16,}={0,2})`)

// referenceMatches is gitleaks' findEncodingMatches over that pattern.
func referenceMatches(s string) []encMatch {
	var all []encMatch
	for _, m := range gitleaksEncodings.FindAllStringSubmatchIndex(s, -1) {
		for i, j := 2, 0; i < len(m); i, j = i+2, j+1 {
			if m[i] > -1 {
				all = append(all, encMatch{encKind(1 << j), startEnd{m[i], m[i+1]}})
			}
		}
	}
	if len(all) <= 1 {
		return all
	}
	var out []encMatch
	for i, m := range all {
		if i > 0 && m.overlaps(all[i-1].startEnd) && all[i-1].kind.precedence() > m.kind.precedence() {
			continue
		}
		if i+1 < len(all) && m.overlaps(all[i+1].startEnd) && all[i+1].kind.precedence() > m.kind.precedence() {
			continue
		}
		out = append(out, m)
	}
	return out
}

// encodedText builds text dense in near-misses of every encoding.
func encodedText(r *rand.Rand) string {
	parts := []string{
		"%41", "%4", "%zz", "%2F", "%00", "% 41", "U+0041 ", "U+0041", "U+00e9\t", "U+004", "\\u0041", "\\\\u0041",
		"\\\\\\u0041", "\\U004a", "\\u00", "0123456789abcdef", "0123456789ABCDEF", "deadbeef", "ghijklmnop",
		"QUJDREVGR0hJSktMTU5PUA", "==", "=", "-_/+", "\n", " ", "\r\n", "x", "é", "\xff", "aGVsbG8gd29ybGQgaGVsbG8=",
		"c2VjcmV0X2tleT1BS0lBSU9TRk9ETk43RVhBTVBMRQ==", "6b6579", "\f", "\v",
	}
	var b strings.Builder
	for range r.IntN(40) {
		p := parts[r.IntN(len(parts))]
		for range r.IntN(3) + 1 {
			b.WriteString(p)
		}
	}
	return b.String()
}

func checkDecode(t *testing.T, s string) {
	t.Helper()
	if got, want := encodingMatches(s), referenceMatches(s); !slices.Equal(got, want) {
		t.Fatalf("encodingMatches(%q)\n got %v\nwant %v", s, got, want)
	}
	// Two passes, as the detector decodes at depth 2.
	dec := codec.NewDecoder()
	cur, ref := s, s
	var segs []*segment
	var refSegs []*codec.EncodedSegment
	for pass := range 2 {
		cur, segs = decodeText(cur, segs)
		ref, refSegs = dec.Decode(ref, refSegs)
		if cur != ref || len(segs) != len(refSegs) {
			t.Fatalf("pass %d over %q: got %q (%d segments), want %q (%d)", pass, s, cur, len(segs), ref, len(refSegs))
		}
		for _, sg := range segs {
			a, b := segOverlap(segs, sg.decoded.start, sg.decoded.end), codec.SegmentsWithDecodedOverlap(refSegs, sg.decoded.start, sg.decoded.end)
			adj := toOriginal(a, sg.decoded)
			radj := codec.AdjustMatchIndex(b, []int{sg.decoded.start, sg.decoded.end})
			if len(a) != len(b) || adj.start != radj[0] || adj.end != radj[1] ||
				!slices.Equal(segTags(a), codec.Tags(b)) || segCurrentLine(a, cur) != codec.CurrentLine(b, ref) {
				t.Fatalf("pass %d over %q: segment %v maps differently", pass, s, sg.decoded)
			}
		}
		if len(segs) == 0 {
			break
		}
	}
}

// TestDecodeMatchesGitleaks compares the hand-written segment scan and the
// decoding passes with gitleaks' decoder.
func TestDecodeMatchesGitleaks(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 19))
	for range 20000 {
		checkDecode(t, encodedText(r))
	}
}

func FuzzDecode(f *testing.F) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		f.Add(encodedText(r))
	}
	f.Fuzz(func(t *testing.T, s string) { checkDecode(t, s) })
}
