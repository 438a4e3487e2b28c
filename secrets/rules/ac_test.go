package rules

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// naiveHits finds every occurrence of every pattern by brute force, ASCII
// case-insensitively, in the automaton's order (by end, then pattern).
func naiveHits(patterns []string, text string) []hit {
	var out []hit
	lower := func(s string) string {
		b := []byte(s)
		for i, c := range b {
			b[i] = byte(lowerASCII(rune(c)))
		}
		return string(b)
	}
	lt := lower(text)
	for end := 1; end <= len(text); end++ {
		var ps []int32
		for id, p := range patterns {
			if p != "" && len(p) <= end && lt[end-len(p):end] == lower(p) {
				ps = append(ps, int32(id))
			}
		}
		slices.Sort(ps)
		for _, p := range ps {
			out = append(out, hit{pat: p, end: end})
		}
	}
	return out
}

// TestAutomatonMatchesNaive compares scan and any with a brute-force search
// over the rule keywords and over random small alphabets (overlapping,
// nested and repeated patterns, mixed case).
func TestAutomatonMatchesNaive(t *testing.T) {
	rs, err := loadRuleSet()
	if err != nil {
		t.Fatal(err)
	}
	var keywords []string
	for _, id := range rs.cfg.OrderedRules {
		keywords = append(keywords, rs.cfg.Rules[id].Keywords...)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	word := func(alpha string, n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alpha[rng.IntN(len(alpha))]
		}
		return string(b)
	}
	sets := [][]string{keywords, {"a", "aa", "aaa", "ab", "ba"}, {"he", "she", "his", "hers"}}
	for range 50 {
		var ps []string
		for range 1 + rng.IntN(12) {
			ps = append(ps, word("abAB-", 1+rng.IntN(5)))
		}
		sets = append(sets, ps)
	}
	for si, ps := range sets {
		a := newAutomaton(ps)
		for range 40 {
			text := word("abcABC-_ \n\xff", rng.IntN(200))
			if si == 0 {
				text += keywords[rng.IntN(len(keywords))] + word("xyzKEY", 20)
			}
			got := a.scan(text, nil)
			want := naiveHits(ps, text)
			slices.SortFunc(got, func(x, y hit) int {
				if x.end != y.end {
					return x.end - y.end
				}
				return int(x.pat - y.pat)
			})
			if !slices.Equal(got, want) {
				t.Fatalf("set %d %q text %q:\ngot  %v\nwant %v", si, ps, text, got, want)
			}
			if a.any(text) != (len(want) > 0) {
				t.Fatalf("set %d %q text %q: any = %v, want %v", si, ps, text, a.any(text), len(want) > 0)
			}
		}
	}
}
