package rules

import (
	"cmp"
	"regexp/syntax"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// unbounded marks a length without an upper bound.
const unbounded = -1

// extent bounds the text one part of a regular expression can match: at most
// max bytes (or unbounded), and only bytes of alphabet when ascii is true.
// It lets the matcher find, around a keyword, the span that holds every
// match containing that keyword, by walking outward over the text.
type extent struct {
	max      int
	ascii    bool      // every byte of a match is in alphabet
	alphabet [256]bool // bytes a match may contain (when ascii)
	noNL     bool      // a match never contains '\n'
}

// span is how far a match containing a keyword can reach: the parts of the
// expression to the left of the keyword (innermost first) and to its right
// (innermost first). The innermost part on each side contains the keyword.
type span struct {
	left, right []extent
	// follow, when set, is a test a keyword occurrence must pass to be the
	// one inside the keyword part of a match (see follower).
	follow *follower
}

// follower is what must come after the keyword part of a match: within
// kMax+skipMax bytes of the keyword's start, only bytes of skip, then a byte
// of first. Generic assignment rules (`name ... = value`) need an operator
// right after the name, which most occurrences of "key" or "token" in text
// lack; their windows are skipped.
//
// When that part is a repetition of one ASCII class with a minimum count
// (`ey[a-zA-Z0-9]{17,}` of JWTs), at least minRun bytes of the class must
// follow: "they" or "key" in prose open no window.
type follower struct {
	kMax, skipMax int
	skip, first   [256]bool
	minRun        int
	run           [256]bool
}

// ok reports whether the keyword occurrence text[p:q] can be followed as
// the rule requires.
func (f *follower) ok(text string, p, q int) bool {
	end := min(len(text)-1, p+f.kMax+f.skipMax)
	for x := q; x <= end; x++ {
		c := text[x]
		if f.first[c] && f.runAt(text, x) {
			return true
		}
		if !f.skip[c] {
			return false
		}
	}
	return false
}

// runAt reports whether text holds minRun bytes of run from x.
func (f *follower) runAt(text string, x int) bool {
	if x+f.minRun > len(text) {
		return false
	}
	for i := x; i < x+f.minRun; i++ {
		if !f.run[text[i]] {
			return false
		}
	}
	return true
}

// nullable reports whether n can match the empty string.
func nullable(n *syntax.Regexp) bool {
	switch n.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary, syntax.OpStar, syntax.OpQuest:
		return true
	case syntax.OpRepeat:
		return n.Min == 0 || nullable(n.Sub[0])
	case syntax.OpPlus, syntax.OpCapture:
		return nullable(n.Sub[0])
	case syntax.OpConcat:
		for _, s := range n.Sub {
			if !nullable(s) {
				return false
			}
		}
		return true
	case syntax.OpAlternate:
		for _, s := range n.Sub {
			if nullable(s) {
				return true
			}
		}
	}
	return false
}

// firstBytes is the set of bytes a non-empty match of n can start with, if
// they are all ASCII.
func firstBytes(n *syntax.Regexp) (set [256]bool, ok bool) {
	switch n.Op {
	case syntax.OpLiteral:
		if len(n.Rune) == 0 || n.Rune[0] >= utf8.RuneSelf {
			return set, false
		}
		r := n.Rune[0]
		set[r] = true
		if n.Flags&syntax.FoldCase != 0 {
			for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
				if f >= utf8.RuneSelf {
					return set, false
				}
				set[f] = true
			}
		}
		return set, true
	case syntax.OpCharClass:
		for i := 0; i+1 < len(n.Rune); i += 2 {
			if n.Rune[i] == n.Rune[i+1] && foldedSpecial(n.Rune[i]) {
				continue
			}
			if n.Rune[i+1] >= utf8.RuneSelf {
				return set, false
			}
			for c := n.Rune[i]; c <= n.Rune[i+1]; c++ {
				set[c] = true
			}
		}
		return set, true
	case syntax.OpCapture, syntax.OpPlus, syntax.OpRepeat, syntax.OpStar, syntax.OpQuest:
		return firstBytes(n.Sub[0])
	case syntax.OpAlternate, syntax.OpConcat:
		for _, sub := range n.Sub {
			if sub.Op == syntax.OpEmptyMatch || sub.Op == syntax.OpWordBoundary || sub.Op == syntax.OpNoWordBoundary {
				continue
			}
			s, ok := firstBytes(sub)
			if !ok {
				return set, false
			}
			for c := range set {
				set[c] = set[c] || s[c]
			}
			if n.Op == syntax.OpConcat && !nullable(sub) {
				break
			}
		}
		return set, true
	}
	return set, false
}

// follower builds the test for a keyword part k followed by rest, or nil.
func newFollower(k extent, rest []*syntax.Regexp) *follower {
	if !k.ascii || k.max == unbounded {
		return nil
	}
	f := &follower{kMax: k.max, skip: k.alphabet}
	for _, n := range rest {
		if !nullable(n) {
			first, ok := firstBytes(n)
			if !ok {
				return nil
			}
			f.first = first
			for n.Op == syntax.OpCapture {
				n = n.Sub[0]
			}
			if n.Op == syntax.OpRepeat && n.Min >= 2 {
				if e := measure(n.Sub[0]); e.ascii && e.max == 1 {
					f.minRun, f.run = n.Min, e.alphabet
				}
			}
			return f
		}
		e := measure(n)
		if !e.ascii || e.max == unbounded {
			return nil
		}
		f.skipMax += e.max
		for c := range f.skip {
			f.skip[c] = f.skip[c] || e.alphabet[c]
		}
	}
	return nil
}

// foldWidth is the widest UTF-8 encoding of a rune that r matches case
// insensitively. The Kelvin sign and the long s, which fold to k and s, are
// left out: the matcher falls back to whole-text matching when the text has
// them.
func foldWidth(r rune) int {
	w := utf8.RuneLen(r)
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f == '\u212a' || f == '\u017f' {
			continue
		}
		w = max(w, utf8.RuneLen(f))
	}
	return w
}

// foldedSpecial reports the runes that case-insensitive classes gain from k
// and s (Kelvin sign, long s); texts holding them are matched whole.
func foldedSpecial(r rune) bool { return r == '\u212a' || r == '\u017f' }

func addLen(a, b int) int {
	if a == unbounded || b == unbounded {
		return unbounded
	}
	return a + b
}

func mulLen(a, n int) int {
	if a == unbounded || n == unbounded {
		if a == 0 {
			return 0
		}
		return unbounded
	}
	return a * n
}

// measure computes the extent of n.
func measure(n *syntax.Regexp) extent {
	var e extent
	switch n.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return extent{max: 0, ascii: true, noNL: true}
	case syntax.OpLiteral:
		e = extent{ascii: true, noNL: true}
		for _, r := range n.Rune {
			if n.Flags&syntax.FoldCase != 0 {
				e.max += foldWidth(r)
				for f := unicode.SimpleFold(r); ; f = unicode.SimpleFold(f) {
					if f < utf8.RuneSelf {
						e.alphabet[f] = true
					} else if f != '\u212a' && f != '\u017f' {
						e.ascii = false
					}
					if f == r {
						break
					}
				}
			} else {
				e.max += utf8.RuneLen(r)
				if r < utf8.RuneSelf {
					e.alphabet[r] = true
				} else {
					e.ascii = false
				}
			}
			if r == '\n' {
				e.noNL = false
			}
		}
		return e
	case syntax.OpCharClass:
		e = extent{max: 1, ascii: true, noNL: true}
		for i := 0; i+1 < len(n.Rune); i += 2 {
			lo, hi := n.Rune[i], n.Rune[i+1]
			if lo == hi && foldedSpecial(lo) {
				continue
			}
			if lo <= '\n' && '\n' <= hi {
				e.noNL = false
			}
			if hi >= utf8.RuneSelf {
				e.ascii = false
				e.max = max(e.max, utf8.RuneLen(min(hi, unicode.MaxRune)))
			}
			for c := lo; c <= hi && c < utf8.RuneSelf; c++ {
				e.alphabet[c] = true
			}
		}
		return e
	case syntax.OpAnyCharNotNL:
		return extent{max: utf8.UTFMax, noNL: true}
	case syntax.OpAnyChar:
		return extent{max: utf8.UTFMax}
	case syntax.OpCapture:
		return measure(n.Sub[0])
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		s := measure(n.Sub[0])
		hi := unbounded
		switch n.Op {
		case syntax.OpQuest:
			hi = 1
		case syntax.OpRepeat:
			hi = n.Max
		}
		s.max = mulLen(s.max, hi)
		return s
	case syntax.OpConcat, syntax.OpAlternate:
		e = extent{ascii: true, noNL: true}
		for _, sub := range n.Sub {
			s := measure(sub)
			if n.Op == syntax.OpConcat {
				e.max = addLen(e.max, s.max)
			} else if e.max != unbounded {
				if s.max == unbounded {
					e.max = unbounded
				} else {
					e.max = max(e.max, s.max)
				}
			}
			e.ascii = e.ascii && s.ascii
			e.noNL = e.noNL && s.noNL
			for c := range e.alphabet {
				e.alphabet[c] = e.alphabet[c] || s.alphabet[c]
			}
		}
		return e
	}
	// Unknown operators: assume anything.
	return extent{max: unbounded}
}

// maxStrings bounds the finite string sets expanded by literals.
const maxStrings = 64

// literals returns strings, lower-cased (ASCII), such that every match of n
// is one of them (exact) or starts with one of them (not exact); ok is false
// when it knows nothing useful.
func literals(n *syntax.Regexp) (out []string, exact, ok bool) {
	switch n.Op {
	case syntax.OpEmptyMatch, syntax.OpWordBoundary, syntax.OpNoWordBoundary, syntax.OpBeginLine,
		syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText:
		return []string{""}, true, true
	case syntax.OpLiteral:
		return []string{strings.ToLower(string(n.Rune))}, true, true
	case syntax.OpCharClass:
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Rune); i += 2 {
			if n.Rune[i+1]-n.Rune[i] > 4 {
				return nil, false, false
			}
			for c := n.Rune[i]; c <= n.Rune[i+1]; c++ {
				seen[strings.ToLower(string(c))] = true
			}
		}
		if len(seen) > 4 {
			return nil, false, false
		}
		for s := range seen {
			out = append(out, s)
		}
		return out, true, true
	case syntax.OpCapture:
		return literals(n.Sub[0])
	case syntax.OpQuest:
		s, ex, ok := literals(n.Sub[0])
		if !ok {
			return nil, false, false
		}
		return append(s, ""), ex, true
	case syntax.OpAlternate:
		exact = true
		for _, sub := range n.Sub {
			s, ex, ok := literals(sub)
			if !ok || len(out)+len(s) > maxStrings {
				return nil, false, false
			}
			out = append(out, s...)
			exact = exact && ex
		}
		return out, exact, true
	case syntax.OpConcat:
		return concatLiterals(n.Sub)
	case syntax.OpPlus:
		if s, _, ok := literals(n.Sub[0]); ok {
			return s, false, true
		}
	case syntax.OpRepeat:
		s, ex, ok := literals(n.Sub[0])
		if !ok {
			return nil, false, false
		}
		if !ex || n.Max == unbounded || n.Max > 3 {
			if n.Min >= 1 {
				return s, false, true
			}
			return nil, false, false
		}
		out = []string{""}
		var all []string
		for i := 0; i <= n.Max; i++ {
			if i >= n.Min {
				all = append(all, out...)
			}
			if out = cross(out, s); out == nil {
				return nil, false, false
			}
		}
		if len(all) > maxStrings {
			return nil, false, false
		}
		return all, true, true
	}
	return nil, false, false
}

// concatLiterals is literals of a concatenation: the cross product of its
// parts' strings, up to the first part that is not exact.
func concatLiterals(subs []*syntax.Regexp) ([]string, bool, bool) {
	out := []string{""}
	for _, sub := range subs {
		s, ex, ok := literals(sub)
		if !ok {
			return out, false, true
		}
		next := cross(out, s)
		if next == nil {
			return out, false, true
		}
		out = next
		if !ex {
			return out, false, true
		}
	}
	return out, true, true
}

func cross(a, b []string) []string {
	if len(a)*len(b) > maxStrings {
		return nil
	}
	out := make([]string, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			out = append(out, x+y)
		}
	}
	return out
}

func allContain(ss []string, kws []string) bool {
	for _, s := range ss {
		found := false
		for _, k := range kws {
			if strings.Contains(s, k) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return len(ss) > 0
}

// keywordSpan reports whether every match of n contains one of kws (ASCII
// case-insensitively) and, if so, how far a match reaches around that
// keyword. It errs on the side of false: a rule it cannot prove is matched
// over the whole text, as gitleaks does.
func keywordSpan(n *syntax.Regexp, kws []string) (span, bool) {
	whole := func() span {
		e := measure(n)
		return span{left: []extent{e}, right: []extent{e}}
	}
	switch n.Op {
	case syntax.OpCapture:
		return keywordSpan(n.Sub[0], kws)
	case syntax.OpPlus:
		if _, ok := keywordSpan(n.Sub[0], kws); ok {
			return whole(), true
		}
	case syntax.OpRepeat:
		if _, ok := keywordSpan(n.Sub[0], kws); ok && n.Min >= 1 {
			return whole(), true
		}
	case syntax.OpAlternate:
		for _, sub := range n.Sub {
			if _, ok := keywordSpan(sub, kws); !ok {
				if s, _, ok := literals(sub); !ok || !allContain(s, kws) {
					return span{}, false
				}
			}
		}
		return whole(), true
	case syntax.OpConcat:
		for i, sub := range n.Sub {
			if inner, ok := keywordSpan(sub, kws); ok {
				sp := around(n.Sub, i, i, inner)
				// The keyword part's own follower (inside a group) holds
				// wherever the group is; a follower at this level, if any,
				// replaces it.
				sp.follow = cmp.Or(newFollower(measure(sub), n.Sub[i+1:]), inner.follow)
				return sp, true
			}
		}
		// A keyword spread over adjacent parts, e.g. sk-ant-api03 split by
		// the parser into literals and classes.
		for i := range n.Sub {
			for j := i + 1; j < len(n.Sub) && j < i+8; j++ {
				s, exact, ok := concatLiterals(n.Sub[i : j+1])
				if !ok {
					break
				}
				if allContain(s, kws) {
					run := &syntax.Regexp{Op: syntax.OpConcat, Sub: n.Sub[i : j+1]}
					e := measure(run)
					sp := around(n.Sub, i, j, span{left: []extent{e}, right: []extent{e}})
					sp.follow = newFollower(e, n.Sub[j+1:])
					return sp, true
				}
				if !exact {
					break
				}
			}
		}
	}
	if s, _, ok := literals(n); ok && allContain(s, kws) {
		return whole(), true
	}
	return span{}, false
}

// around extends inner, the span of parts i..j of a concatenation, by the
// parts before and after them.
func around(subs []*syntax.Regexp, i, j int, inner span) span {
	out := span{left: append([]extent(nil), inner.left...), right: append([]extent(nil), inner.right...)}
	for k := i - 1; k >= 0; k-- {
		out.left = append(out.left, measure(subs[k]))
	}
	for k := j + 1; k < len(subs); k++ {
		out.right = append(out.right, measure(subs[k]))
	}
	return out
}

// reach returns, for a keyword found at text[p:q], the smallest and largest
// offsets a match containing it can span, walking over the text.
func (s span) reach(text string, p, q int) (lo, hi int) {
	lo = q // the innermost part contains the whole keyword occurrence
	for _, e := range s.left {
		lo = stepLeft(text, lo, e)
		if lo == 0 {
			break
		}
	}
	hi = p
	for _, e := range s.right {
		hi = stepRight(text, hi, e)
		if hi == len(text) {
			break
		}
	}
	return lo, hi
}

// stepRight: a part that starts at or before pos ends at most here.
func stepRight(text string, pos int, e extent) int {
	limit := len(text)
	if e.max != unbounded {
		limit = min(limit, pos+e.max)
	}
	switch {
	case e.ascii:
		i := pos
		for i < limit && e.alphabet[text[i]] {
			i++
		}
		return i
	case e.noNL:
		if i := strings.IndexByte(text[pos:limit], '\n'); i >= 0 {
			return pos + i
		}
	}
	return limit
}

// stepLeft: a part that ends at or after pos starts at least here.
func stepLeft(text string, pos int, e extent) int {
	limit := 0
	if e.max != unbounded {
		limit = max(0, pos-e.max)
	}
	switch {
	case e.ascii:
		i := pos
		for i > limit && e.alphabet[text[i-1]] {
			i--
		}
		return i
	case e.noNL:
		if i := strings.LastIndexByte(text[limit:pos], '\n'); i >= 0 {
			return limit + i + 1
		}
	}
	return limit
}

// required returns literal strings that every match of n contains, taken
// from the literals that a concatenation cannot do without. Case-folded
// literals are left out (their matches need not contain them byte for
// byte).
func required(n *syntax.Regexp) []string {
	switch n.Op {
	case syntax.OpLiteral:
		if n.Flags&syntax.FoldCase == 0 && len(n.Rune) > 0 && !slices.Contains(n.Rune, utf8.RuneError) {
			return []string{string(n.Rune)}
		}
	case syntax.OpCapture, syntax.OpPlus:
		return required(n.Sub[0])
	case syntax.OpRepeat:
		if n.Min >= 1 {
			return required(n.Sub[0])
		}
	case syntax.OpConcat:
		var out []string
		for _, sub := range n.Sub {
			out = append(out, required(sub)...)
		}
		return out
	}
	return nil
}

// classRun is a run that every match of a regular expression contains: at
// least min consecutive bytes of class (all ASCII).
type classRun struct {
	class [256]bool
	min   int
}

// requiredRun finds a class run every match of n contains, for rules whose
// matches need not contain a keyword (sourcegraph-access-token: any 40 hex
// digits): the rule's windows are then found around such runs.
func requiredRun(n *syntax.Regexp) (classRun, bool) {
	switch n.Op {
	case syntax.OpCapture:
		return requiredRun(n.Sub[0])
	case syntax.OpRepeat, syntax.OpPlus:
		lo := 1
		if n.Op == syntax.OpRepeat {
			lo = n.Min
		}
		if lo < 1 {
			return classRun{}, false
		}
		if e := measure(n.Sub[0]); e.ascii && e.max == 1 {
			return classRun{class: e.alphabet, min: lo}, true
		}
		return requiredRun(n.Sub[0])
	case syntax.OpConcat:
		var best classRun
		for _, sub := range n.Sub {
			if r, ok := requiredRun(sub); ok && r.min > best.min {
				best = r
			}
		}
		return best, best.min > 0
	case syntax.OpAlternate:
		var out classRun
		for i, sub := range n.Sub {
			r, ok := requiredRun(sub)
			if !ok {
				return classRun{}, false
			}
			if i == 0 || r.min < out.min {
				out.min = r.min
			}
			for c := range out.class {
				out.class[c] = out.class[c] || r.class[c]
			}
		}
		return out, len(n.Sub) > 0
	}
	return classRun{}, false
}
