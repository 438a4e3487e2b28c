package rules

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// litFilter is an exact pre-check for a set of regular expressions matched
// against file paths: every match of any of them contains one of the
// literals needs (compared ASCII case-insensitively), so a path that holds
// none cannot match and its regexps need not run. A nil filter, or a path
// with a non-ASCII byte, always defers to the regexps.
type litFilter struct {
	needs []string
	ac    *automaton
}

// maxExact bounds the sets of strings the analysis enumerates.
const maxExact = 64

// newLitFilter returns the filter for res, or nil if some expression has no
// required literal (it could match a path without any).
func newLitFilter(res []*regexp.Regexp) *litFilter {
	var needs []string
	for _, re := range res {
		p, err := syntax.Parse(re.String(), syntax.Perl)
		if err != nil {
			return nil
		}
		set := bestNeed(litInfo(p.Simplify()))
		if len(set) == 0 {
			return nil
		}
		needs = append(needs, set...)
	}
	if len(needs) == 0 {
		return nil
	}
	return &litFilter{needs: needs, ac: newAutomaton(needs)}
}

// mayMatch reports whether path might match (false: it cannot).
func (f *litFilter) mayMatch(path string) bool {
	if f == nil {
		return true
	}
	for i := 0; i < len(path); i++ {
		if path[i] >= utf8.RuneSelf {
			return true
		}
	}
	return f.ac.any(path)
}

// info is what litInfo knows of the strings an expression matches, all
// ASCII-lower-cased: exact, if not nil, is every string it can match;
// need, if not nil, is a set one of which every match contains.
type info struct {
	exact []string
	need  []string
}

// litInfo analyses a simplified expression. Only ASCII literals are used:
// the filter skips non-ASCII paths, and on ASCII text a case-folded ASCII
// literal matches exactly its ASCII case variants.
func litInfo(re *syntax.Regexp) info {
	switch re.Op {
	case syntax.OpLiteral:
		var b strings.Builder
		for _, r := range re.Rune {
			if r >= utf8.RuneSelf {
				return info{}
			}
			b.WriteRune(lowerASCII(r))
		}
		return info{exact: []string{b.String()}}
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return info{exact: []string{""}}
	case syntax.OpCharClass:
		var set []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			if hi >= utf8.RuneSelf || hi-lo >= maxExact {
				return info{}
			}
			for r := lo; r <= hi; r++ {
				set = addUnique(set, string(lowerASCII(r)))
				if len(set) > 8 {
					return info{}
				}
			}
		}
		return info{exact: set}
	case syntax.OpCapture:
		return litInfo(re.Sub[0])
	case syntax.OpQuest:
		in := litInfo(re.Sub[0])
		if in.exact != nil && len(in.exact) < maxExact {
			return info{exact: addUnique(in.exact, "")}
		}
		return info{}
	case syntax.OpPlus:
		return info{need: bestNeed(litInfo(re.Sub[0]))}
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return info{need: bestNeed(litInfo(re.Sub[0]))}
		}
		return info{}
	case syntax.OpAlternate:
		var exact, need []string
		exactOK, needOK := true, true
		for _, sub := range re.Sub {
			in := litInfo(sub)
			if in.exact == nil || len(exact)+len(in.exact) > maxExact {
				exactOK = false
			} else {
				for _, s := range in.exact {
					exact = addUnique(exact, s)
				}
			}
			if n := bestNeed(in); len(n) == 0 {
				needOK = false
			} else {
				need = append(need, n...)
			}
		}
		var out info
		if exactOK {
			out.exact = exact
		}
		if needOK {
			out.need = need
		}
		return out
	case syntax.OpConcat:
		// cur is the exact set of the run of subexpressions since the last
		// one that was not exact; each run and each sub's need is a
		// candidate, and the best one is kept.
		var best []string
		cur := []string{""}
		flush := func() {
			best = better(best, cur)
		}
		allExact := true
		for _, sub := range re.Sub {
			in := litInfo(sub)
			if in.exact != nil && len(cur)*len(in.exact) <= maxExact {
				cur = crossLits(cur, in.exact)
				continue
			}
			flush()
			allExact = false
			best = better(best, bestNeed(in))
			if in.exact != nil {
				cur = in.exact
				continue
			}
			cur = []string{""}
		}
		if allExact {
			return info{exact: cur}
		}
		flush()
		return info{need: best}
	}
	return info{}
}

// bestNeed is the better of an info's two sets, nil if neither constrains.
func bestNeed(in info) []string {
	return better(better(nil, in.exact), in.need)
}

// better returns whichever of a and b is the better filter: a set with the
// empty string (or no set) constrains nothing; otherwise the longer
// shortest member wins.
func better(a, b []string) []string {
	if minLen(b) > minLen(a) {
		return b
	}
	return a
}

func minLen(set []string) int {
	if len(set) == 0 {
		return 0
	}
	m := len(set[0])
	for _, s := range set[1:] {
		m = min(m, len(s))
	}
	return m
}

func crossLits(a, b []string) []string {
	var out []string
	for _, x := range a {
		for _, y := range b {
			out = addUnique(out, x+y)
		}
	}
	return out
}

func addUnique(set []string, s string) []string {
	for _, t := range set {
		if t == s {
			return set
		}
	}
	return append(set, s)
}

func lowerASCII(r rune) rune {
	if 'A' <= r && r <= 'Z' {
		return r + 'a' - 'A'
	}
	return r
}
