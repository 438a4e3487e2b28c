package rules

import (
	"cmp"
	"context"
	"math"
	"regexp"
	"regexp/syntax"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/zricethezav/gitleaks/v8/config"
	"github.com/zricethezav/gitleaks/v8/report"
)

// engine finds what gitleaks' detector finds in a fragment, faster: one
// Aho–Corasick pass finds every keyword occurrence, and each rule whose
// matches provably contain one of its keywords runs its regular expression
// only over the windows around those occurrences (see keywordSpan) instead
// of over the whole text; rules whose matches need no keyword but contain a
// long run of one byte class run around such runs (requiredRun); encoded
// segments are found by a linear scan (decode.go). Rules it cannot window,
// and texts with the few non-ASCII letters that lower-case to ASCII, take
// gitleaks' own path: the whole text, gated by keyword presence.
type engine struct {
	cfg      config.Config
	rules    []*engineRule
	ac       *automaton
	patRules [][]int // keyword pattern → rules it anchors
	special  int     // patterns from here on force whole-text matching
	// lineAllow: a global allowlist waives findings by their line alone.
	lineAllow bool
	scratch   sync.Pool // of *scratch
	lineLits  map[*regexp.Regexp][]string
	maxDepth  int
	// pathLits are exact literal pre-checks of the path regexps of each
	// allowlist and rule path (see litFilter); nil entries always defer.
	pathLits  map[*regexp.Regexp]*litFilter
	allowLits map[*config.Allowlist]*litFilter
	// stop matches each allowlist's stop words (built on first use).
	stop map[*config.Allowlist]*stopMatcher
}

// scratch is a pass's per-text bookkeeping, reused across texts: a tree
// of small files would otherwise allocate it once per file and pass.
type scratch struct {
	hits    []hit
	present []bool  // keyword pattern → occurs
	perRule [][]hit // rule → its keyword hits
}

func (s *scratch) reset(e *engine) {
	if len(s.present) != e.special {
		s.present, s.perRule = make([]bool, e.special), make([][]hit, len(e.rules))
		return
	}
	clear(s.present)
	for i := range s.perRule {
		s.perRule[i] = s.perRule[i][:0]
	}
}

type engineRule struct {
	r    config.Rule // r.Regex is not used: see src and prepare
	src  string      // the regular expression's source; empty for path-only rules
	kw   []string    // lower-cased keywords
	pats []int       // their pattern IDs
	// once guards the fields below, set by prepare when the rule is first
	// needed: a rule whose keywords never occur is never compiled.
	once     sync.Once
	re       *regexp.Regexp
	windowed bool
	span     span
	// required are literals every match contains: a window without them
	// is not matched.
	required []string
	// run, for a rule that is not windowed around keywords, is a class run
	// every match contains (at least 8 bytes long), and whole the extent of
	// the whole expression: the rule is matched around such runs.
	run   *classRun
	whole extent
}

// prepare compiles the rule's regular expression and works out how it can
// be windowed (safe for concurrent use). The sources come from the
// embedded rule set, which TestRuleSetMatchesGitleaks compiles in full, so
// a compile error cannot occur at run time; should it, er.re stays nil and
// the rule matches nothing.
func (er *engineRule) prepare() {
	er.once.Do(func() {
		re, err := regexp.Compile(er.src)
		if err != nil {
			return
		}
		er.re = re
		if len(er.kw) == 0 {
			return
		}
		if n, err := syntax.Parse(er.src, syntax.Perl); err == nil {
			er.span, er.windowed = keywordSpan(n, er.kw)
			er.required = required(n)
			if !er.windowed {
				if run, ok := requiredRun(n); ok && run.min >= 8 {
					er.run, er.whole = &run, measure(n)
				}
			}
		}
	})
}

// specialRunes lower-case to ASCII letters (Kelvin sign, dotted capital I)
// or fold to them in case-insensitive expressions (long s); where they occur
// keyword positions and windows are not reliable, so the text is matched
// whole.
var specialRunes = []string{"\u212a", "\u0130", "\u017f"}

// newEngine builds the engine over rs; rule regexps are compiled on first
// use.
func newEngine(rs ruleSet, maxDepth int) *engine {
	cfg := rs.cfg
	e := &engine{cfg: cfg, maxDepth: maxDepth, lineAllow: hasLineAllow(cfg.Allowlists), stop: map[*config.Allowlist]*stopMatcher{}}
	e.scratch.New = func() any { return new(scratch) }
	e.lineLits = lineLiterals(cfg)
	e.pathLits, e.allowLits = map[*regexp.Regexp]*litFilter{}, map[*config.Allowlist]*litFilter{}
	addAllow := func(als []*config.Allowlist) {
		for _, a := range als {
			if len(a.Paths) > 0 {
				e.allowLits[a] = newLitFilter(a.Paths)
			}
			if len(a.StopWords) > 0 {
				e.stop[a] = &stopMatcher{words: a.StopWords}
			}
		}
	}
	addAllow(cfg.Allowlists)
	ids := map[string]int{}
	var pats []string
	for _, id := range cfg.OrderedRules {
		r := cfg.Rules[id]
		er := &engineRule{r: r, src: rs.regex[id]}
		addAllow(r.Allowlists)
		if r.Path != nil {
			e.pathLits[r.Path] = newLitFilter([]*regexp.Regexp{r.Path})
		}
		for _, k := range r.Keywords {
			k = strings.ToLower(k)
			er.kw = append(er.kw, k)
			p, ok := ids[k]
			if !ok {
				p = len(pats)
				ids[k] = p
				pats = append(pats, k)
				e.patRules = append(e.patRules, nil)
			}
			er.pats = append(er.pats, p)
			e.patRules[p] = append(e.patRules[p], len(e.rules))
		}
		e.rules = append(e.rules, er)
	}
	e.special = len(pats)
	pats = append(pats, specialRunes...)
	e.ac = newAutomaton(pats)
	return e
}

// scope is what a file path decides for every text of that file: gitleaks
// checks it per fragment, the engine once per file.
type scope struct {
	path    string
	allowed bool   // a global allowlist waives the path
	skip    []bool // rules whose allowlists waive the path
	pathOK  []bool // rules with a path pattern: whether the path matches it
}

func (e *engine) scope(path string) *scope {
	sc := &scope{path: path, skip: make([]bool, len(e.rules)), pathOK: make([]bool, len(e.rules))}
	sc.allowed = path != "" && e.pathAllowed(path, e.cfg.Allowlists)
	if sc.allowed {
		return sc
	}
	for i, er := range e.rules {
		sc.skip[i] = path != "" && len(er.r.Allowlists) > 0 && e.pathAllowed(path, er.r.Allowlists)
		sc.pathOK[i] = er.r.Path != nil && e.pathLits[er.r.Path].mayMatch(path) && er.r.Path.MatchString(path)
	}
	return sc
}

// find returns gitleaks' findings for text in the file of sc (before its
// generic-rule filter, which find applies too).
func (e *engine) find(ctx context.Context, text string, sc *scope) []report.Finding {
	if sc.allowed {
		return nil
	}
	var (
		out   []report.Finding
		cur   = text
		segs  []*segment
		depth = 0
		fr    = fragment{raw: text, path: sc.path}
	)
	for ctx.Err() == nil {
		out = e.pass(ctx, &fr, cur, segs, sc, out)
		depth++
		if depth > e.maxDepth {
			break
		}
		cur, segs = decodeText(cur, segs)
		if len(segs) == 0 {
			break
		}
	}
	return filterGeneric(out)
}

// fragment is the text being searched and its lazily computed line breaks.
type fragment struct {
	raw, path string
	nls       []int
	nlsDone   bool
}

func (f *fragment) newlines() []int {
	if !f.nlsDone {
		for i := 0; i < len(f.raw); i++ {
			if f.raw[i] == '\n' {
				f.nls = append(f.nls, i)
			}
		}
		f.nlsDone = true
	}
	return f.nls
}

type window struct{ lo, hi int }

// pass runs every rule over cur, one decoding pass of the fragment.
func (e *engine) pass(ctx context.Context, fr *fragment, cur string, segs []*segment, sc *scope, out []report.Finding) []report.Finding {
	sc0 := e.scratch.Get().(*scratch)
	defer e.scratch.Put(sc0)
	sc0.reset(e)
	hits := e.ac.scan(cur, sc0.hits[:0])
	sc0.hits = hits
	whole := false
	present, perRule := sc0.present, sc0.perRule
	for _, h := range hits {
		if int(h.pat) >= e.special {
			whole = true
			continue
		}
		present[h.pat] = true
		for _, ri := range e.patRules[h.pat] {
			perRule[ri] = append(perRule[ri], h)
		}
	}
	var lower string
	if whole {
		lower = strings.ToLower(cur)
	}
	for ri, er := range e.rules {
		if ctx.Err() != nil {
			return out
		}
		r := &er.r
		if r.SkipReport {
			continue
		}
		if sc.skip[ri] {
			continue
		}
		if r.Path != nil {
			if er.src == "" && len(segs) == 0 {
				if sc.pathOK[ri] {
					out = append(out, report.Finding{RuleID: r.RuleID, Description: r.Description, File: fr.path, Match: "file detected: " + fr.path, Tags: r.Tags})
				}
				continue
			}
			if !sc.pathOK[ri] {
				continue
			}
		}
		if er.src == "" {
			continue
		}
		gated := len(er.kw) == 0
		for i, k := range er.kw {
			if gated {
				break
			}
			if whole {
				gated = strings.Contains(lower, k)
			} else {
				gated = present[er.pats[i]]
			}
		}
		if !gated {
			continue
		}
		if er.prepare(); er.re == nil {
			continue
		}
		var idx [][]int
		if er.windowed && !whole {
			var ok bool
			var waived func(lo, hi int) bool
			if len(segs) == 0 && (e.lineAllow || hasLineAllow(r.Allowlists)) {
				waived = e.lineWaiver(r, cur)
			}
			if idx, ok = windowMatches(er, cur, perRule[ri], segs, waived); !ok {
				idx = er.re.FindAllStringIndex(cur, -1)
			}
		} else if er.run != nil && !whole {
			var ok bool
			if idx, ok = runMatches(er, cur, segs); !ok {
				idx = er.re.FindAllStringIndex(cur, -1)
			}
		} else {
			idx = er.re.FindAllStringIndex(cur, -1)
		}
		for _, m := range idx {
			if f, ok := e.check(fr, cur, segs, er, m[0], m[1]); ok {
				out = append(out, f)
			}
		}
	}
	return out
}

// windowMatches runs the rule over the merged windows around its keyword
// hits. A match that touches a window edge (other than the text's own) may
// have been cut short or lost context: ok is false and the caller matches
// the whole text instead.
//
// waived, when set, reports that every match within cur[lo:hi] would be
// waived by a line allowlist; keywords whose whole reach it waives open no
// window.
func windowMatches(er *engineRule, cur string, hits []hit, segs []*segment, waived func(lo, hi int) bool) (idx [][]int, ok bool) {
	if len(hits) == 0 {
		return nil, true
	}
	ws := make([]window, 0, len(hits))
	for _, h := range hits {
		p := h.end - len(er.kw[slices.Index(er.pats, int(h.pat))])
		if er.span.follow != nil && !er.span.follow.ok(cur, p, h.end) {
			continue // cannot be the keyword part of a match
		}
		lo, hi := er.span.reach(cur, p, h.end)
		lo, hi = min(lo, p), max(hi, h.end)
		if waived != nil && waived(lo, hi) {
			continue // every match containing this keyword is waived
		}
		ws = append(ws, window{max(0, lo-1), min(len(cur), hi+1)})
	}
	if len(ws) == 0 {
		return nil, true
	}
	slices.SortFunc(ws, func(a, b window) int { return cmp.Compare(a.lo, b.lo) })
	merged := ws[:1]
	for _, w := range ws[1:] {
		last := &merged[len(merged)-1]
		if w.lo <= last.hi {
			last.hi = max(last.hi, w.hi)
			continue
		}
		merged = append(merged, w)
	}
	for _, w := range merged {
		if len(segs) > 0 && !anySegOverlap(segs, w.lo, w.hi) {
			continue // no match here can overlap decoded text
		}
		if !containsAll(cur[w.lo:w.hi], er.required) {
			continue // no match fits in this window
		}
		for _, m := range er.re.FindAllStringIndex(cur[w.lo:w.hi], -1) {
			s, t := m[0]+w.lo, m[1]+w.lo
			if (s == w.lo && w.lo > 0) || (t == w.hi && w.hi < len(cur)) {
				return nil, false
			}
			idx = append(idx, []int{s, t})
		}
	}
	return idx, true
}

// runMatches runs a rule over the merged windows around the runs of its
// class run in cur; ok is false when a match touches a window edge, as in
// windowMatches.
func runMatches(er *engineRule, cur string, segs []*segment) (idx [][]int, ok bool) {
	var ws []window
	for i := 0; i < len(cur); {
		if !er.run.class[cur[i]] {
			i++
			continue
		}
		j := i
		for j < len(cur) && er.run.class[cur[j]] {
			j++
		}
		if j-i >= er.run.min {
			lo, hi := stepLeft(cur, i, er.whole), stepRight(cur, j, er.whole)
			w := window{max(0, lo-1), min(len(cur), hi+1)}
			if n := len(ws); n > 0 && w.lo <= ws[n-1].hi {
				ws[n-1].hi = max(ws[n-1].hi, w.hi)
			} else {
				ws = append(ws, w)
			}
		}
		i = j
	}
	for _, w := range ws {
		if len(segs) > 0 && !anySegOverlap(segs, w.lo, w.hi) {
			continue
		}
		for _, m := range er.re.FindAllStringIndex(cur[w.lo:w.hi], -1) {
			s, t := m[0]+w.lo, m[1]+w.lo
			if (s == w.lo && w.lo > 0) || (t == w.hi && w.hi < len(cur)) {
				return nil, false
			}
			idx = append(idx, []int{s, t})
		}
	}
	return idx, true
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// check turns one regular-expression match into a finding the way gitleaks'
// detector does: the secret group, decoding overlap, location, entropy and
// allowlists.
func (e *engine) check(fr *fragment, cur string, segs []*segment, er *engineRule, s, t int) (report.Finding, bool) {
	r := &er.r
	secret := strings.Trim(cur[s:t], "\n")
	var tags []string
	currentLine := ""
	if len(segs) > 0 {
		ss := segOverlap(segs, s, t)
		if len(ss) == 0 {
			return report.Finding{}, false
		}
		adj := toOriginal(ss, startEnd{s, t})
		s, t = adj.start, adj.end
		tags = segTags(ss)
		currentLine = segCurrentLine(ss, cur)
	} else {
		t = s + len(secret)
	}
	loc := locate(fr.newlines(), fr.raw, s, t)
	if t > loc.eli {
		loc.eli = t
	}
	f := report.Finding{
		RuleID: r.RuleID, Description: r.Description,
		StartLine: 1 + loc.sl, EndLine: 1 + loc.el, StartColumn: loc.sc, EndColumn: loc.ec,
		Line: fr.raw[min(loc.sli, len(fr.raw)):min(max(loc.eli, loc.sli), len(fr.raw))], Match: secret, Secret: secret,
		File: fr.path, Tags: append(slices.Clip(r.Tags), tags...),
	}
	if currentLine == "" {
		currentLine = f.Line
	}
	// A line allowlist waives every match on the line, whatever its secret:
	// checked first, it spares the secret group and the entropy.
	if e.lineAllowed(currentLine, e.cfg.Allowlists) || e.lineAllowed(currentLine, r.Allowlists) {
		return report.Finding{}, false
	}
	if groups := er.re.FindStringSubmatch(f.Secret); len(groups) >= 2 {
		if r.SecretGroup > 0 {
			if len(groups) <= r.SecretGroup {
				return report.Finding{}, false
			}
			f.Secret = groups[r.SecretGroup]
		} else {
			for _, g := range groups[1:] {
				if g != "" {
					f.Secret = g
					break
				}
			}
		}
	}
	ent := entropy(f.Secret)
	f.Entropy = float32(ent)
	if r.Entropy != 0 && ent <= r.Entropy {
		return report.Finding{}, false
	}
	if e.findingAllowed(&f, fr.path, currentLine, e.cfg.Allowlists) || e.findingAllowed(&f, fr.path, currentLine, r.Allowlists) {
		return report.Finding{}, false
	}
	return f, true
}

// entropy is the Shannon entropy of s as gitleaks computes it: counts per
// rune over the length in bytes.
func entropy(s string) float64 {
	if s == "" {
		return 0
	}
	counts := map[rune]int{}
	for _, r := range s {
		counts[r]++
	}
	var h float64
	n := float64(len(s))
	for _, c := range counts {
		p := float64(c) / n
		h -= p * math.Log2(p)
	}
	return h
}

// location is gitleaks' idea of where a match is: 0-based lines, its
// column quirks, and the span of the line(s) it reports.
type location struct {
	sl, el, sc, ec, sli, eli int
}

// locate reproduces gitleaks' location rules for the match [start, end) of
// raw, whose line breaks are at nls.
func locate(nls []int, raw string, start, end int) location {
	var l location
	ns := nls
	if len(ns) == 0 {
		ns = []int{len(raw)}
	}
	prev := func(i int) int {
		if i == 0 {
			return 0
		}
		return ns[i-1]
	}
	j := sort.SearchInts(ns, start+1) // first break after start
	k := sort.SearchInts(ns, end)     // first break at or after end
	startCheck := func() {
		l.sl, l.el = j, j
		l.sc = start - prev(j) + 1
		l.sli, l.eli = prev(j), ns[j]
	}
	endOK := k < len(ns) && prev(k) < end
	endCheck := func() {
		l.el = k
		l.ec = end - prev(k)
		l.eli = ns[k]
	}
	lineSet := j < len(ns)
	switch {
	case lineSet && endOK && k < j:
		endCheck()
		startCheck()
	case lineSet:
		startCheck()
		if endOK {
			endCheck()
		}
	default:
		last := ns[len(ns)-1]
		l.sc = start - last + 1
		l.ec = end - last
		l.sl, l.el = len(ns), len(ns)
		i := end
		for i < len(raw) && raw[i] != '\n' && raw[i] != '\r' {
			i++
		}
		l.eli = i
	}
	return l
}

// lineAllowed reports whether an allowlist waives every finding whose
// current line is line, whatever its secret: one that matches regexes
// against the line and needs nothing else.
func (e *engine) lineAllowed(line string, als []*config.Allowlist) bool {
	for _, a := range als {
		if a.RegexTarget == "line" && a.MatchCondition != config.AllowlistMatchAnd && e.mayMatchAny(line, a.Regexes) && a.RegexAllowed(line) {
			return true
		}
	}
	return false
}

// mayMatchAny is false when line lacks a literal that each of res needs
// (" h1:" of a go.sum line): none of them can match, and they need not run.
func (e *engine) mayMatchAny(line string, res []*regexp.Regexp) bool {
	for _, re := range res {
		lits, ok := e.lineLits[re]
		if !ok || containsAll(line, lits) {
			return true
		}
	}
	return false
}

// lineLiterals maps the regexes of line allowlists to the literals their
// matches need.
func lineLiterals(cfg config.Config) map[*regexp.Regexp][]string {
	out := map[*regexp.Regexp][]string{}
	add := func(als []*config.Allowlist) {
		for _, a := range als {
			if a.RegexTarget != "line" {
				continue
			}
			for _, re := range a.Regexes {
				if n, err := syntax.Parse(re.String(), syntax.Perl); err == nil {
					out[re] = required(n)
				}
			}
		}
	}
	add(cfg.Allowlists)
	for _, r := range cfg.Rules {
		add(r.Allowlists)
	}
	return out
}

func hasLineAllow(als []*config.Allowlist) bool {
	for _, a := range als {
		if a.RegexTarget == "line" && a.MatchCondition != config.AllowlistMatchAnd && len(a.Regexes) > 0 {
			return true
		}
	}
	return false
}

// lineWaiver returns a test of whether every match of rule r within
// cur[lo:hi] (a first-pass text) is waived by a line allowlist. It is when
// the span holds no line break, except maybe as its last byte, and its line
// ends with one: every such match then has that line as its current line
// (raw[sli:eli] of gitleaks' location: from the previous break, included,
// to the next one; a trailing break is trimmed from the match). Consecutive
// calls for the same line reuse the verdict.
func (e *engine) lineWaiver(r *config.Rule, cur string) func(lo, hi int) bool {
	lastP, lastEnd, last := -1, -1, false
	return func(lo, hi int) bool {
		in := hi
		if in > lo && cur[in-1] == '\n' {
			in--
		}
		if strings.IndexByte(cur[lo:in], '\n') >= 0 {
			return false
		}
		q := strings.IndexByte(cur[in:], '\n')
		if q < 0 {
			return false
		}
		p, end := max(strings.LastIndexByte(cur[:lo], '\n'), 0), in+q
		if p != lastP || end != lastEnd {
			line := cur[p:end]
			lastP, lastEnd, last = p, end, e.lineAllowed(line, e.cfg.Allowlists) || e.lineAllowed(line, r.Allowlists)
		}
		return last
	}
}

// pathAllowed is gitleaks' check of a file path against allowlists (a
// fragment has no commit here), each path regexp behind its literal
// pre-check.
func (e *engine) pathAllowed(path string, als []*config.Allowlist) bool {
	pathOK := func(a *config.Allowlist) bool {
		return e.allowLits[a].mayMatch(path) && a.PathAllowed(path)
	}
	for _, a := range als {
		if a.MatchCondition == config.AllowlistMatchAnd {
			if len(a.Regexes) > 0 || len(a.StopWords) > 0 {
				continue
			}
			ok := true
			if len(a.Commits) > 0 {
				ok = false
			}
			if len(a.Paths) > 0 && !pathOK(a) {
				ok = false
			}
			if ok {
				return true
			}
			continue
		}
		if pathOK(a) {
			return true
		}
	}
	return false
}

// findingAllowed is gitleaks' check of a finding against allowlists.
func (e *engine) findingAllowed(f *report.Finding, path, currentLine string, als []*config.Allowlist) bool {
	for _, a := range als {
		target := f.Secret
		switch a.RegexTarget {
		case "match":
			target = f.Match
		case "line":
			target = currentLine
		}
		regexOK := a.RegexAllowed(target)
		stop := e.stop[a].contains(f.Secret)
		if a.MatchCondition == config.AllowlistMatchAnd {
			ok := true
			if len(a.Commits) > 0 {
				ok = false // no commit to allow
			}
			if len(a.Paths) > 0 && !a.PathAllowed(path) {
				ok = false
			}
			if len(a.Regexes) > 0 && !regexOK {
				ok = false
			}
			if len(a.StopWords) > 0 && !stop {
				ok = false
			}
			if ok {
				return true
			}
			continue
		}
		if regexOK || stop {
			return true
		}
	}
	return false
}

// filterGeneric drops a generic rule's finding when a specific rule found a
// secret containing it on the same line, as gitleaks does.
func filterGeneric(fs []report.Finding) []report.Finding {
	var out []report.Finding
	for _, f := range fs {
		drop := false
		if strings.Contains(strings.ToLower(f.RuleID), "generic") {
			for _, g := range fs {
				if f.StartLine == g.StartLine && f.RuleID != g.RuleID && strings.Contains(g.Secret, f.Secret) &&
					!strings.Contains(strings.ToLower(g.RuleID), "generic") {
					drop = true
					break
				}
			}
		}
		if !drop {
			out = append(out, f)
		}
	}
	return out
}

// stopMatcher reports whether a secret contains one of an allowlist's stop
// words, as gitleaks' Allowlist.ContainsStopWord does (the secret lower-
// cased, the words already lower-case), with an automaton built on first
// use: most scans never reach a stop-word check.
type stopMatcher struct {
	words []string
	once  sync.Once
	ac    *automaton
}

// contains is false for a nil matcher (an allowlist without stop words).
func (m *stopMatcher) contains(secret string) bool {
	if m == nil || secret == "" {
		return false
	}
	m.once.Do(func() { m.ac = newAutomaton(m.words) })
	return m.ac.any(strings.ToLower(secret))
}
