package rules

// automaton is an Aho–Corasick automaton over ASCII-lower-cased bytes,
// compiled to a full transition table, that reports every occurrence of
// every pattern (overlapping ones too) in one pass over the text.
type automaton struct {
	next  [][256]int32 // state × byte → state
	out   [][]int32    // state → patterns ending here
	lens  []int        // pattern → length
	lower [256]byte
}

// hit is one occurrence of pattern pat at text[end-len:end].
type hit struct {
	pat int32
	end int
}

func newAutomaton(patterns []string) *automaton {
	a := &automaton{next: make([][256]int32, 1), out: make([][]int32, 1)}
	for i := range a.lower {
		c := byte(i)
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		a.lower[i] = c
	}
	// Trie; -1 marks a missing edge until the failure links fill it.
	for s := range a.next[0] {
		a.next[0][s] = -1
	}
	for id, p := range patterns {
		a.lens = append(a.lens, len(p))
		s := int32(0)
		for i := 0; i < len(p); i++ {
			c := a.lower[p[i]]
			if a.next[s][c] < 0 {
				a.next = append(a.next, [256]int32{})
				for j := range a.next[len(a.next)-1] {
					a.next[len(a.next)-1][j] = -1
				}
				a.out = append(a.out, nil)
				a.next[s][c] = int32(len(a.next) - 1)
			}
			s = a.next[s][c]
		}
		a.out[s] = append(a.out[s], int32(id))
	}
	// Breadth-first: failure links folded into the table.
	fail := make([]int32, len(a.next))
	var queue []int32
	for c := range 256 {
		if t := a.next[0][c]; t > 0 {
			fail[t] = 0
			queue = append(queue, t)
		} else {
			a.next[0][c] = 0
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		a.out[s] = append(a.out[s], a.out[fail[s]]...)
		for c := range 256 {
			t := a.next[s][c]
			if t < 0 {
				a.next[s][c] = a.next[fail[s]][c]
				continue
			}
			fail[t] = a.next[fail[s]][c]
			queue = append(queue, t)
		}
	}
	return a
}

// scan appends every pattern occurrence in text to hits, in order of their
// end offsets.
func (a *automaton) scan(text string, hits []hit) []hit {
	s := int32(0)
	next, out, lower := a.next, a.out, &a.lower
	for i := 0; i < len(text); i++ {
		s = next[s][lower[text[i]]]
		if o := out[s]; len(o) > 0 {
			for _, p := range o {
				hits = append(hits, hit{pat: p, end: i + 1})
			}
		}
	}
	return hits
}
