package main

import (
	"fmt"
	"strconv"
	"strings"
)

// toERE translates a Go (RE2) rule regex into GNU grep -E syntax as closely
// as ERE allows: inline flags and non-capturing or named groups become plain
// groups (grep runs with -i, as most rules are case-insensitive), lazy
// quantifiers become greedy (same matches for a yes/no search), and Perl
// classes inside brackets are spelled out. The result is a baseline of
// comparable work, not an equivalent rule.
func toERE(re string) string {
	var b strings.Builder
	inClass := false
	classDash := false
	for i := 0; i < len(re); i++ {
		c := re[i]
		if inClass {
			switch {
			case c == '\\' && i+1 < len(re):
				i++
				switch e := re[i]; e {
				case 'w':
					b.WriteString("A-Za-z0-9_")
				case 'd':
					b.WriteString("0-9")
				case 's':
					b.WriteString("[:space:]")
				case 'S':
					b.WriteString("[:graph:]")
				case '-':
					classDash = true
				case 'x':
					if i+2 < len(re) {
						v, _ := strconv.ParseUint(re[i+1:i+3], 16, 8)
						b.WriteByte(byte(v))
						i += 2
					}
				case 'n', 'r', 't':
					b.WriteString("[:space:]")
				default:
					b.WriteByte(e)
				}
			case c == ']':
				if classDash {
					b.WriteByte('-')
					classDash = false
				}
				b.WriteByte(']')
				inClass = false
			default:
				b.WriteByte(c)
			}
			continue
		}
		switch {
		case c == '[':
			inClass = true
			b.WriteByte('[')
			if i+1 < len(re) && re[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
			if i+1 < len(re) && re[i+1] == ']' {
				b.WriteByte(']')
				i++
			}
		case c == '(' && strings.HasPrefix(re[i:], "(?"):
			// (?i) (?-i:  (?:  (?P<name>  (?s)
			j := i + 2
			if j < len(re) && re[j] == 'P' {
				k := strings.IndexByte(re[j:], '>')
				b.WriteByte('(')
				i = j + k
				continue
			}
			for j < len(re) && strings.IndexByte("imsU-", re[j]) >= 0 {
				j++
			}
			if j < len(re) && re[j] == ')' {
				i = j // bare flag group: dropped
				continue
			}
			b.WriteByte('(')
			i = j // j points at ':'
		case c == '\\' && i+1 < len(re):
			i++
			switch e := re[i]; e {
			case 'd':
				b.WriteString("[0-9]")
			case 'D':
				b.WriteString("[^0-9]")
			case 'z', 'Z':
				b.WriteByte('$')
			case 'A':
				b.WriteByte('^')
			case 'n', 'r', 't':
				b.WriteString("[[:space:]]")
			case 'x':
				if i+2 < len(re) {
					v, _ := strconv.ParseUint(re[i+1:i+3], 16, 8)
					fmt.Fprintf(&b, "[%c]", byte(v))
					i += 2
				}
			case 'w', 'W', 's', 'S', 'b', 'B', '.', '\\', '*', '+', '?', '(', ')', '[', ']', '{', '}', '|', '^', '$':
				b.WriteByte('\\')
				b.WriteByte(e)
			default:
				b.WriteByte(e) // \/ \- \_ \= and the like: the literal
			}
		case (c == '?') && i > 0 && strings.IndexByte("*+?}", re[i-1]) >= 0 && (i < 2 || re[i-2] != '\\'):
			// lazy quantifier: drop the '?'
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
