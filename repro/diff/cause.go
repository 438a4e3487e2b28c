package diff

import (
	"encoding/binary"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A masker recognises one family of unstable tokens in text (timestamps,
// paths, ...). Two chunks of text whose only differences lie in tokens of a
// family are attributed to that family's cause.
type masker struct {
	cause Cause
	re    *regexp.Regexp
	// keep reports whether a match really is such a token (e.g. a number is
	// an epoch only when it is near now).
	keep func(tok string, now time.Time) bool
}

var (
	reToolchain = regexp.MustCompile(`\bgo1\.\d+(\.\d+)?((rc|beta)\d+)?\b|GCC: \([^)]*\) [0-9.]+|clang version [0-9.]+|rustc [0-9.]+`)
	rePath      = regexp.MustCompile(`(/[A-Za-z0-9._@+~-]+){2,}/?`)
	reDateTime  = regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?|\b\d{1,2}:\d{2}:\d{2}(\.\d+)?\b|\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun)(day|sday|nesday|rsday|urday)?\b|\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b|\b(January|February|March|April|June|July|August|September|October|November|December)\b|\b(19|20)\d{2}\b`)
	reEpoch     = regexp.MustCompile(`\b\d{10}(\d{3}|\d{6}|\d{9})?\b`)
	reLocale    = regexp.MustCompile(`\b[a-z]{2,3}_[A-Z]{2}(\.[A-Za-z0-9-]+)?(@[a-z]+)?\b|\bC\.UTF-8\b|\bPOSIX\b|\b(UTC|GMT|CET|CEST|EET|EEST|WET|WEST|BST|IST|EST|EDT|CST|CDT|MST|MDT|PST|PDT|AKST|AKDT|HST|JST|KST|AEST|AEDT|ACST|NZST|NZDT|MSK|SGT|HKT)\b|[+-](0\d|1[0-4])(00|30|45)\b`)
	reRandom    = regexp.MustCompile(`\b[0-9a-fA-F]{16,}\b|[A-Za-z0-9+/_-]{22,}={0,2}|\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b`)
)

func maskers() []masker {
	return []masker{
		{cause: CauseToolchain, re: reToolchain},
		{cause: CauseBuildPath, re: rePath},
		{cause: CauseTimestamp, re: reDateTime},
		{cause: CauseTimestamp, re: reEpoch, keep: epochNearNow},
		{cause: CauseLocale, re: reLocale},
		{cause: CauseRandomness, re: reRandom, keep: looksRandom},
	}
}

// epochNearNow reports whether tok, read as seconds, milliseconds,
// microseconds or nanoseconds since 1970, lies within 30 years before now.
func epochNearNow(tok string, now time.Time) bool {
	v, err := strconv.ParseUint(tok, 10, 64)
	if err != nil {
		return false
	}
	scale := map[int]uint64{10: 1, 13: 1e3, 16: 1e6, 19: 1e9}[len(tok)]
	if scale == 0 || v/scale > math.MaxInt64 {
		return false
	}
	return nearNow(time.Unix(int64(v/scale), 0), now)
}

func nearNow(t, now time.Time) bool {
	return t.After(now.AddDate(-30, 0, 0)) && t.Before(now.AddDate(0, 0, 2))
}

// looksRandom requires a mix of character classes so that ordinary words
// and long identifiers are not taken for random tokens.
func looksRandom(tok string, _ time.Time) bool {
	var digits, letters int
	for _, r := range tok {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
			letters++
		}
	}
	return digits > 0 && letters > 0
}

// classifyText attributes the difference between two chunks of text. It
// returns the causes whose tokens differ between a and b and whether masking
// those tokens made the chunks equal.
func classifyText(a, b string, now time.Time) (causes []Cause, explained bool) {
	if a == b {
		return nil, true
	}
	for _, m := range maskers() {
		ta, ma := applyMask(m, a, now)
		tb, mb := applyMask(m, b, now)
		if !slices.Equal(ta, tb) && !slices.Contains(causes, m.cause) {
			causes = append(causes, m.cause)
		}
		a, b = ma, mb
	}
	return causes, a == b
}

func applyMask(m masker, s string, now time.Time) (tokens []string, masked string) {
	masked = m.re.ReplaceAllStringFunc(s, func(tok string) string {
		if m.keep != nil && !m.keep(tok, now) {
			return tok
		}
		tokens = append(tokens, tok)
		return "\x00" + string(m.cause) + "\x00"
	})
	return tokens, masked
}

// sameLinesReordered reports whether a and b hold the same lines in a
// different order.
func sameLinesReordered(a, b string) bool {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	if len(la) != len(lb) || slices.Equal(la, lb) {
		return false
	}
	slices.Sort(la)
	slices.Sort(lb)
	return slices.Equal(la, lb)
}

// classifyBinary attributes a differing byte range [off, off+n) given a
// window of context around it on both sides (wa, wb, starting at winStart).
// With textOnly, only printable context is considered: the binary heuristics
// (integers near now, high entropy) are skipped.
func classifyBinary(wa, wb []byte, winStart, off, n int64, now time.Time, textOnly bool) []Cause {
	rs, re := int(off-winStart), int(off-winStart+n)
	// Printable context: expand to the surrounding printable run on both
	// sides and classify as text.
	ta, tb := printableAround(wa, rs, re), printableAround(wb, rs, re)
	if len(ta) >= 8 && len(tb) >= 8 {
		if causes, _ := classifyText(ta, tb, now); len(causes) > 0 {
			return causes
		}
	}
	// A path on one side only (the other side holds binary data or a
	// shorter path that shifted the bytes).
	for _, t := range []string{ta, tb} {
		if len(t) >= 8 && rePath.MatchString(t) {
			return []Cause{CauseBuildPath}
		}
	}
	if textOnly {
		return nil
	}
	// A 4- or 8-byte integer holding a time near now.
	if n <= 8 {
		for _, size := range []int{4, 8} {
			for start := re - size; start <= rs; start++ {
				if start < 0 || start+size > len(wa) || start+size > len(wb) {
					continue
				}
				if binaryTime(wa[start:start+size], wb[start:start+size], now) {
					return []Cause{CauseTimestamp}
				}
			}
		}
	}
	// High-entropy bytes that all differ.
	if n >= 8 && re <= len(wa) && re <= len(wb) {
		differing, distinct := 0, map[byte]bool{}
		for i := rs; i < re; i++ {
			if wa[i] != wb[i] {
				differing++
			}
			distinct[wa[i]] = true
		}
		if differing*10 >= int(n)*8 && len(distinct)*10 >= min(int(n), 256)*6 {
			return []Cause{CauseRandomness}
		}
	}
	return nil
}

// binaryTime reports whether a and b, read as the same 4- or 8-byte integer
// (either byte order; seconds to nanoseconds), both hold times near now and
// within a month of each other, as two builds' timestamps would.
func binaryTime(a, b []byte, now time.Time) bool {
	vals := func(x []byte) [2]uint64 {
		if len(x) == 4 {
			return [2]uint64{uint64(binary.LittleEndian.Uint32(x)), uint64(binary.BigEndian.Uint32(x))}
		}
		return [2]uint64{binary.LittleEndian.Uint64(x), binary.BigEndian.Uint64(x)}
	}
	va, vb := vals(a), vals(b)
	// A tighter window than for text (five years) avoids chance hits.
	lo, hi := uint64(now.AddDate(-5, 0, 0).Unix()), uint64(now.AddDate(0, 0, 2).Unix())
	const month = 31 * 24 * 3600
	for i := range va {
		for _, scale := range []uint64{1, 1e3, 1e6, 1e9} {
			sa, sb := va[i]/scale, vb[i]/scale
			if sa >= lo && sa <= hi && sb >= lo && sb <= hi && max(sa, sb)-min(sa, sb) <= month {
				return true
			}
		}
	}
	return false
}

func printable(c byte) bool { return c >= 0x20 && c < 0x7f || c == '\t' }

// printableAround returns the printable run of w around [rs, re), or "" when
// the differing bytes are not printable.
func printableAround(w []byte, rs, re int) string {
	if rs < 0 || re > len(w) {
		return ""
	}
	for i := rs; i < re; i++ {
		if !printable(w[i]) {
			return ""
		}
	}
	s, e := rs, re
	for s > 0 && printable(w[s-1]) && rs-s < 256 {
		s--
	}
	for e < len(w) && printable(w[e]) && e-re < 256 {
		e++
	}
	return string(w[s:e])
}

// buildDirs guesses the differing build directories from two sets of
// absolute paths: it strips the longest common suffix of a pair.
func buildDirs(onlyA, onlyB []string) (string, string, bool) {
	for _, pa := range onlyA {
		for _, pb := range onlyB {
			ca, cb := strings.Split(pa, "/"), strings.Split(pb, "/")
			k := 0
			for k < len(ca) && k < len(cb) && ca[len(ca)-1-k] == cb[len(cb)-1-k] {
				k++
			}
			if k > 0 && k < len(ca) && k < len(cb) {
				return strings.Join(ca[:len(ca)-k], "/"), strings.Join(cb[:len(cb)-k], "/"), true
			}
		}
	}
	return "", "", false
}
