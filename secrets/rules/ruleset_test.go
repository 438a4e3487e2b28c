package rules

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zricethezav/gitleaks/v8/config"
)

// ruleView is what a rule is, for comparison: every field of gitleaks'
// Rule, with regexps as their sources.
type ruleView struct {
	ID, Description, Regex, Path string
	SecretGroup                  int
	Entropy                      float64
	Keywords, Tags               []string
	SkipReport                   bool
	Required                     []string
	Allowlists                   []allowView
}

type allowView struct {
	Description, RegexTarget   string
	And                        bool
	Commits, Paths, Regexes    []string
	StopWords                  []string // sorted: gitleaks keeps them in map order
	JoinedPaths, JoinedRegexes []bool   // PathAllowed/RegexAllowed of probes
}

func sources(res []*regexp.Regexp) []string {
	var out []string
	for _, re := range res {
		out = append(out, re.String())
	}
	return out
}

// probes exercise the joined patterns gitleaks' Validate builds (a (?i)
// leading one alternative makes the later ones case-insensitive too).
var probes = []string{"GO.SUM", "go.sum", "x/VENDOR/modules.txt", "node_modules/a.js", "a.PNG", "true", "${FOO}", "aaaa", "x"}

func viewAllow(a *config.Allowlist) allowView {
	v := allowView{
		Description: a.Description, RegexTarget: a.RegexTarget, And: a.MatchCondition == config.AllowlistMatchAnd,
		Commits: slices.Sorted(slices.Values(a.Commits)), Paths: sources(a.Paths), Regexes: sources(a.Regexes),
		StopWords: slices.Sorted(slices.Values(a.StopWords)),
	}
	for _, p := range probes {
		v.JoinedPaths = append(v.JoinedPaths, a.PathAllowed(p))
		v.JoinedRegexes = append(v.JoinedRegexes, a.RegexAllowed(p))
	}
	return v
}

func viewRule(r config.Rule, regex string) ruleView {
	v := ruleView{
		ID: r.RuleID, Description: r.Description, Regex: regex, SecretGroup: r.SecretGroup, Entropy: r.Entropy,
		Keywords: r.Keywords, Tags: r.Tags, SkipReport: r.SkipReport,
	}
	if r.Path != nil {
		v.Path = r.Path.String()
	}
	for _, q := range r.RequiredRules {
		v.Required = append(v.Required, q.RuleID)
	}
	for _, a := range r.Allowlists {
		v.Allowlists = append(v.Allowlists, viewAllow(a))
	}
	return v
}

// TestRuleSetMatchesGitleaks checks that the rule set the engine uses is
// the one gitleaks' own loader builds from the same TOML: the same rules
// in the same order with the same regexps (sources), paths, keywords,
// entropy, secret groups, tags and allowlists (joined patterns included),
// and the same global allowlists and keyword set; and that every rule's
// regexp compiles with its secret group in range (the engine compiles them
// only on first use).
func TestRuleSetMatchesGitleaks(t *testing.T) {
	want, got := loadBoth(t)
	if diff := cmp.Diff(want.cfg.OrderedRules, got.cfg.OrderedRules); diff != "" {
		t.Fatalf("rule order (-gitleaks +hallmark):\n%s", diff)
	}
	if len(got.cfg.OrderedRules) < 220 {
		t.Fatalf("only %d rules", len(got.cfg.OrderedRules))
	}
	if diff := cmp.Diff(want.added, got.added); diff != "" {
		t.Errorf("Hallmark-added rules (-gitleaks +hallmark):\n%s", diff)
	}
	for _, id := range want.cfg.OrderedRules {
		wr := want.cfg.Rules[id]
		src := ""
		if wr.Regex != nil {
			src = wr.Regex.String()
		}
		if diff := cmp.Diff(viewRule(wr, src), viewRule(got.cfg.Rules[id], got.regex[id])); diff != "" {
			t.Errorf("rule %s (-gitleaks +hallmark):\n%s", id, diff)
		}
		if src == "" {
			continue
		}
		re, err := regexp.Compile(got.regex[id])
		if err != nil || re.NumSubexp() < wr.SecretGroup {
			t.Errorf("rule %s: regexp does not compile or lacks secret group %d: %v", id, wr.SecretGroup, err)
		}
	}
	var wa, ga []allowView
	for _, a := range want.cfg.Allowlists {
		wa = append(wa, viewAllow(a))
	}
	for _, a := range got.cfg.Allowlists {
		ga = append(ga, viewAllow(a))
	}
	if diff := cmp.Diff(wa, ga); diff != "" {
		t.Errorf("global allowlists (-gitleaks +hallmark):\n%s", diff)
	}
	if diff := cmp.Diff(want.cfg.Keywords, got.cfg.Keywords); diff != "" {
		t.Errorf("keywords (-gitleaks +hallmark):\n%s", diff)
	}
}

// TestStopMatcher checks the engine's stop-word test against gitleaks'
// Allowlist.ContainsStopWord for every stop word of the rule set, in
// several cases and contexts, and for strings without one.
func TestStopMatcher(t *testing.T) {
	want, got := loadBoth(t)
	e := newEngine(got, 1)
	n := 0
	for _, id := range want.cfg.OrderedRules {
		for i, wa := range want.cfg.Rules[id].Allowlists {
			ga := got.cfg.Rules[id].Allowlists[i]
			var texts []string
			for _, w := range wa.StopWords {
				texts = append(texts, w, "x"+strings.ToUpper(w)+"9", w[:len(w)-1], "\u212a"+w)
			}
			texts = append(texts, "", "zzqqzz", "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "\u212aey")
			for _, s := range texts {
				w, _ := wa.ContainsStopWord(s)
				if g := e.stop[ga].contains(s); g != w {
					t.Fatalf("rule %s allowlist %d: stop word in %q: got %v, gitleaks %v", id, i, s, g, w)
				}
				n++
			}
		}
	}
	if n < 1000 {
		t.Fatalf("only %d stop-word probes", n)
	}
}

// TestLazyCompileConcurrent has many goroutines find in texts that need
// the same rules at once from one fresh Detector, each rule compiled on
// first use, and requires each to get what a Detector whose rules were all
// compiled beforehand finds. Run with -race: the first uses race.
func TestLazyCompileConcurrent(t *testing.T) {
	rs, err := loadRuleSet()
	if err != nil {
		t.Fatal(err)
	}
	warm := newEngine(rs, 1)
	for _, er := range warm.rules {
		if er.src != "" {
			er.prepare()
		}
	}
	texts := []string{
		"aws_access_key_id = AKIAZ3MSJV4WWNKWW5FG\ngithub_token: ghp_4Y8nYc2tXkq0PzR7m1LwB5dS9aF3hJ6uQe0V\n",
		"password = \"hunter2hunter2x9Qz\"\nslack: xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx\n",
		"-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgHcTz6sE2I2yPB\n-----END RSA PRIVATE KEY-----\n",
		"db: postgres://app:S3cr3tPassw0rdX@db.internal:5432/x\nauth=" + strings.Repeat("QUJDREVGR0hJSktMTU5PUFFSU1RVVldY", 2) + "\n",
	}
	want := make([]string, len(texts))
	for i, text := range texts {
		want[i] = fmt.Sprint(warm.find(context.Background(), text, warm.scope("conf/app.cfg")))
	}
	for i, w := range want {
		if w == "[]" {
			t.Fatalf("text %d has no finding; the comparison would be empty", i)
		}
	}
	cold := newEngine(rs, 1)
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := range 16 {
		wg.Go(func() {
			for k := range len(texts) {
				i := (g + k) % len(texts)
				if got := fmt.Sprint(cold.find(context.Background(), texts[i], cold.scope("conf/app.cfg"))); got != want[i] {
					errs <- fmt.Sprintf("text %d: got %s, want %s", i, got, want[i])
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	compiled := 0
	for _, er := range cold.rules {
		if er.re != nil {
			compiled++
		}
	}
	if compiled == 0 || compiled > len(cold.rules)/2 {
		t.Errorf("%d of %d rules compiled after the texts; want some, and not most (compiling is lazy)", compiled, len(cold.rules))
	}
	t.Logf("%d of %d rules compiled", compiled, len(cold.rules))
}

// loadBoth loads the rules with gitleaks' loader and with Hallmark's.
func loadBoth(t *testing.T) (gitleaksSet, ruleSet) {
	t.Helper()
	want, err := load()
	if err != nil {
		t.Fatal(err)
	}
	got, err := loadRuleSet()
	if err != nil {
		t.Fatal(err)
	}
	return want, got
}
