package rules

// automaton is an Aho–Corasick automaton over ASCII-lower-cased bytes that
// reports every occurrence of every pattern (overlapping ones too) in one
// pass over the text. Its transition table is dense but over byte classes,
// not bytes: the bytes that occur in no pattern share one class, and the
// others (a few dozen for the rule keywords) one each, so the table is a
// sixth of a 256-way one or less and stays in cache. States are numbered
// so that those where a pattern ends come last: the scan needs one
// comparison per byte to know whether to report.
type automaton struct {
	class  [256]byte // byte → class, ASCII case folded
	stride int32     // classes, the width of a state's row
	// next holds the transitions, row after row; a state is the offset of
	// its row (its number times stride). The start state is 0.
	next []int32
	// firstOut is the lowest state at which some pattern ends.
	firstOut int32
	out      [][]int32 // state/stride → patterns ending there
	lens     []int     // pattern → length
}

// hit is one occurrence of pattern pat at text[end-len:end].
type hit struct {
	pat int32
	end int
}

func newAutomaton(patterns []string) *automaton {
	var lower [256]byte
	for i := range lower {
		c := byte(i)
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	// Classes: 0 for bytes in no pattern, then one per pattern byte.
	var cls [256]byte
	n := 1
	for _, p := range patterns {
		for i := 0; i < len(p); i++ {
			if c := lower[p[i]]; cls[c] == 0 {
				cls[c] = byte(n)
				n++
			}
		}
	}
	a := &automaton{stride: int32(n)}
	for i := range a.class {
		a.class[i] = cls[lower[i]]
	}
	// Trie, one row of n transitions a state; -1 marks a missing edge
	// until the failure links fill it.
	var next []int32
	var out [][]int32
	addState := func() int32 {
		for range n {
			next = append(next, -1)
		}
		out = append(out, nil)
		return int32(len(out) - 1)
	}
	addState()
	for id, p := range patterns {
		a.lens = append(a.lens, len(p))
		s := int32(0)
		for i := 0; i < len(p); i++ {
			c := int32(a.class[p[i]])
			if next[s*int32(n)+c] < 0 {
				t := addState()
				next[s*int32(n)+c] = t
			}
			s = next[s*int32(n)+c]
		}
		out[s] = append(out[s], int32(id))
	}
	// Breadth-first: failure links folded into the table.
	fail := make([]int32, len(out))
	var queue []int32
	for c := range int32(n) {
		if t := next[c]; t > 0 {
			queue = append(queue, t)
		} else {
			next[c] = 0
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		out[s] = append(out[s], out[fail[s]]...)
		row, frow := next[s*int32(n):(s+1)*int32(n)], next[fail[s]*int32(n):(fail[s]+1)*int32(n)]
		for c := range row {
			t := row[c]
			if t < 0 {
				row[c] = frow[c]
				continue
			}
			fail[t] = frow[c]
			queue = append(queue, t)
		}
	}
	// Renumber: the start state stays first, states with output go last;
	// transitions become row offsets.
	num := make([]int32, len(out))
	order := []int32{0}
	for s := 1; s < len(out); s++ {
		if len(out[s]) == 0 {
			order = append(order, int32(s))
		}
	}
	first := int32(len(order))
	if len(out[0]) > 0 {
		first = 0 // an empty pattern ends everywhere
	}
	for s := 1; s < len(out); s++ {
		if len(out[s]) > 0 {
			order = append(order, int32(s))
		}
	}
	for i, s := range order {
		num[s] = int32(i)
	}
	a.next = make([]int32, len(next))
	a.out = make([][]int32, len(out))
	for i, s := range order {
		a.out[i] = out[s]
		for c := range n {
			a.next[i*n+c] = num[next[int(s)*n+c]] * int32(n)
		}
	}
	a.firstOut = first * int32(n)
	return a
}

// scan appends every pattern occurrence in text to hits, in order of their
// end offsets.
func (a *automaton) scan(text string, hits []hit) []hit {
	s := int32(0)
	next, class, first := a.next, &a.class, a.firstOut
	for i := 0; i < len(text); i++ {
		s = next[s+int32(class[text[i]])]
		if s >= first {
			for _, p := range a.out[s/a.stride] {
				hits = append(hits, hit{pat: p, end: i + 1})
			}
		}
	}
	return hits
}

// any reports whether some pattern occurs in text.
func (a *automaton) any(text string) bool {
	s := int32(0)
	next, class, first := a.next, &a.class, a.firstOut
	for i := 0; i < len(text); i++ {
		s = next[s+int32(class[text[i]])]
		if s >= first && len(a.out[s/a.stride]) > 0 {
			return true
		}
	}
	return false
}
