package rules

import (
	"math/rand/v2"
	"regexp/syntax"
	"strings"
)

// Sampler writes random strings that a regular expression matches, for
// tests that plant every rule or path pattern of the set without a
// hand-written sample. Case-folded letters are upper-cased at random and
// repeats are bounded.
type Sampler struct {
	// AnyChars is the alphabet for '.'.
	AnyChars string
	// Newlines lets character classes yield '\n' and '\t'.
	Newlines bool
	// PlusMax bounds x+; RepeatExtra bounds x{n,} at n+RepeatExtra.
	PlusMax, RepeatExtra int
}

// RuleSample writes secrets (rule regexps); PathSample writes file paths.
var (
	RuleSample = Sampler{AnyChars: "abcXYZ019_-", Newlines: true, PlusMax: 40, RepeatExtra: 24}
	PathSample = Sampler{AnyChars: "abc/XYZ.019_-", PlusMax: 6, RepeatExtra: 4}
)

// Write appends to b a random string that re matches.
func (g Sampler) Write(r *rand.Rand, re *syntax.Regexp, b *strings.Builder) {
	switch re.Op {
	case syntax.OpLiteral:
		for _, c := range re.Rune {
			if re.Flags&syntax.FoldCase != 0 && r.IntN(2) == 0 {
				c = []rune(strings.ToUpper(string(c)))[0]
			}
			b.WriteRune(c)
		}
	case syntax.OpCharClass:
		// Prefer printable ASCII members.
		var opts []rune
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for c := re.Rune[i]; c <= re.Rune[i+1] && c < 0x7f; c++ {
				if c >= 0x20 || (g.Newlines && (c == '\n' || c == '\t')) {
					opts = append(opts, c)
				}
			}
		}
		if len(opts) == 0 && len(re.Rune) > 0 {
			opts = append(opts, re.Rune[0])
		}
		if len(opts) > 0 {
			b.WriteRune(opts[r.IntN(len(opts))])
		}
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		b.WriteByte(g.AnyChars[r.IntN(len(g.AnyChars))])
	case syntax.OpCapture:
		g.Write(r, re.Sub[0], b)
	case syntax.OpConcat:
		for _, s := range re.Sub {
			g.Write(r, s, b)
		}
	case syntax.OpAlternate:
		g.Write(r, re.Sub[r.IntN(len(re.Sub))], b)
	case syntax.OpQuest, syntax.OpStar, syntax.OpPlus, syntax.OpRepeat:
		lo, hi := 0, 1
		switch re.Op {
		case syntax.OpStar:
			hi = 3
		case syntax.OpPlus:
			lo, hi = 1, g.PlusMax
		case syntax.OpRepeat:
			lo, hi = re.Min, re.Max
			if hi < 0 {
				hi = lo + g.RepeatExtra
			}
		}
		n := lo
		if hi > lo {
			n += r.IntN(hi - lo + 1)
		}
		for range n {
			g.Write(r, re.Sub[0], b)
		}
	}
}
