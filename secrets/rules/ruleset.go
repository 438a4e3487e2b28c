package rules

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/zricethezav/gitleaks/v8/config"
)

// ruleSet is the rule set the engine matches with: gitleaks' configuration
// types, filled from the same TOML as gitleaks' own loader fills them, but
// without compiling the rules' regular expressions, which the engine
// compiles only for the rules whose keywords occur (engineRule.prepare);
// regex holds their sources. Path patterns and allowlist regexps are
// compiled (every file needs them), and each allowlist is validated (its
// joined patterns) except for its stop words, which the engine matches
// itself (stopMatcher): gitleaks' stop-word trie took a third of the
// start-up. TestRuleSetMatchesGitleaks compares the result with gitleaks'
// loader, field for field.
type ruleSet struct {
	cfg   config.Config // Rule.Regex is nil: see regex
	regex map[string]string
	added map[string]bool
}

// tomlConfig is the part of gitleaks' configuration format the rule sets
// use, as gitleaks' ViperConfig reads it.
type tomlConfig struct {
	Rules []struct {
		ID          string   `toml:"id"`
		Description string   `toml:"description"`
		Path        string   `toml:"path"`
		Regex       string   `toml:"regex"`
		SecretGroup int      `toml:"secretGroup"`
		Entropy     float64  `toml:"entropy"`
		Keywords    []string `toml:"keywords"`
		Tags        []string `toml:"tags"`
		SkipReport  bool     `toml:"skipReport"`
		// AllowList is gitleaks' deprecated single [rules.allowlist].
		AllowList  *tomlAllowlist   `toml:"allowlist"`
		Allowlists []*tomlAllowlist `toml:"allowlists"`
		Required   []struct {
			ID string `toml:"id"`
		} `toml:"required"`
	} `toml:"rules"`
	// AllowList is gitleaks' deprecated single [allowlist].
	AllowList  *tomlAllowlist   `toml:"allowlist"`
	Allowlists []*tomlAllowlist `toml:"allowlists"`
	Extend     struct {
		Path       string `toml:"path"`
		URL        string `toml:"url"`
		UseDefault bool   `toml:"useDefault"`
	} `toml:"extend"`
}

type tomlAllowlist struct {
	Description string   `toml:"description"`
	Condition   string   `toml:"condition"`
	Commits     []string `toml:"commits"`
	Paths       []string `toml:"paths"`
	RegexTarget string   `toml:"regexTarget"`
	Regexes     []string `toml:"regexes"`
	StopWords   []string `toml:"stopwords"`
	TargetRules []string `toml:"targetRules"`
}

// loadRuleSet reads gitleaks' default configuration and Hallmark's rules
// and merges them as load does.
func loadRuleSet() (ruleSet, error) {
	rs, err := decodeRuleSet("gitleaks default", config.DefaultConfig)
	if err != nil {
		return ruleSet{}, err
	}
	extra, err := decodeRuleSet("hallmark.toml", hallmarkRules)
	if err != nil {
		return ruleSet{}, err
	}
	rs.added = map[string]bool{}
	for _, id := range extra.cfg.OrderedRules {
		if _, dup := rs.cfg.Rules[id]; dup {
			return ruleSet{}, fmt.Errorf("%w: hallmark.toml redefines gitleaks rule %q", ErrRuleSet, id)
		}
		r := extra.cfg.Rules[id]
		rs.cfg.Rules[id] = r
		rs.regex[id] = extra.regex[id]
		rs.added[id] = true
		rs.cfg.OrderedRules = append(rs.cfg.OrderedRules, id)
		for _, k := range r.Keywords {
			rs.cfg.Keywords[k] = struct{}{}
		}
	}
	rs.cfg.Allowlists = append(rs.cfg.Allowlists, extra.cfg.Allowlists...)
	return rs, nil
}

// decodeRuleSet decodes one configuration file the way gitleaks'
// ViperConfig.Translate does, leaving rule regexps uncompiled.
func decodeRuleSet(name, text string) (ruleSet, error) {
	var tc tomlConfig
	if _, err := toml.Decode(text, &tc); err != nil {
		return ruleSet{}, fmt.Errorf("%w: decoding %s: %w", ErrRuleSet, name, err)
	}
	if tc.Extend.Path != "" || tc.Extend.URL != "" || tc.Extend.UseDefault {
		return ruleSet{}, fmt.Errorf("%w: %s: [extend] is not supported", ErrRuleSet, name)
	}
	rs := ruleSet{
		cfg:   config.Config{Rules: map[string]config.Rule{}, Keywords: map[string]struct{}{}},
		regex: map[string]string{},
	}
	for _, tr := range tc.Rules {
		if strings.TrimSpace(tr.ID) == "" {
			return ruleSet{}, fmt.Errorf("%w: %s: a rule has no id", ErrRuleSet, name)
		}
		if tr.Regex == "" && tr.Path == "" {
			return ruleSet{}, fmt.Errorf("%w: %s: rule %s has neither regex nor path", ErrRuleSet, name, tr.ID)
		}
		if _, dup := rs.cfg.Rules[tr.ID]; dup {
			// gitleaks' loader would keep the last definition under the ID
			// twice in its order; refuse instead.
			return ruleSet{}, fmt.Errorf("%w: %s: rule %s defined twice", ErrRuleSet, name, tr.ID)
		}
		r := config.Rule{
			RuleID: tr.ID, Description: tr.Description, SecretGroup: tr.SecretGroup, Entropy: tr.Entropy,
			Keywords: []string{}, Tags: []string{}, SkipReport: tr.SkipReport,
		}
		for _, k := range tr.Keywords {
			k = strings.ToLower(k)
			r.Keywords = append(r.Keywords, k)
			rs.cfg.Keywords[k] = struct{}{}
		}
		if tr.Tags != nil {
			r.Tags = tr.Tags
		}
		if tr.Path != "" {
			re, err := regexp.Compile(tr.Path)
			if err != nil {
				return ruleSet{}, fmt.Errorf("%w: %s: rule %s path: %w", ErrRuleSet, name, tr.ID, err)
			}
			r.Path = re
		}
		if len(tr.Required) > 0 {
			// Multi-part rules: New leaves them to gitleaks' detector, so
			// only their presence matters here.
			for _, q := range tr.Required {
				r.RequiredRules = append(r.RequiredRules, &config.Required{RuleID: q.ID})
			}
		}
		als := tr.Allowlists
		if tr.AllowList != nil {
			if len(als) > 0 {
				return ruleSet{}, fmt.Errorf("%w: %s: rule %s has both [rules.allowlist] and [[rules.allowlists]]", ErrRuleSet, name, tr.ID)
			}
			als = []*tomlAllowlist{tr.AllowList}
		}
		for _, ta := range als {
			a, err := newAllowlist(ta)
			if err != nil {
				return ruleSet{}, fmt.Errorf("%w: %s: rule %s allowlist: %w", ErrRuleSet, name, tr.ID, err)
			}
			r.Allowlists = append(r.Allowlists, a)
		}
		rs.cfg.Rules[tr.ID] = r
		rs.regex[tr.ID] = tr.Regex
		rs.cfg.OrderedRules = append(rs.cfg.OrderedRules, tr.ID)
	}
	als := tc.Allowlists
	if tc.AllowList != nil {
		if len(als) > 0 {
			return ruleSet{}, fmt.Errorf("%w: %s: both [allowlist] and [[allowlists]]", ErrRuleSet, name)
		}
		als = []*tomlAllowlist{tc.AllowList}
	}
	for _, ta := range als {
		a, err := newAllowlist(ta)
		if err != nil {
			return ruleSet{}, fmt.Errorf("%w: %s: allowlist: %w", ErrRuleSet, name, err)
		}
		if len(ta.TargetRules) == 0 {
			rs.cfg.Allowlists = append(rs.cfg.Allowlists, a)
			continue
		}
		for _, id := range ta.TargetRules {
			r, ok := rs.cfg.Rules[id]
			if !ok {
				return ruleSet{}, fmt.Errorf("%w: %s: allowlist target rule %q does not exist", ErrRuleSet, name, id)
			}
			r.Allowlists = append(r.Allowlists, a)
			rs.cfg.Rules[id] = r
		}
	}
	return rs, nil
}

// newAllowlist builds an allowlist as gitleaks' parseAllowlist and
// Validate do, but keeps its stop words out of Validate: they are lower-
// cased and de-duplicated here and matched by the engine's stopMatcher.
func newAllowlist(ta *tomlAllowlist) (*config.Allowlist, error) {
	a := &config.Allowlist{Description: ta.Description, RegexTarget: ta.RegexTarget}
	switch strings.ToUpper(ta.Condition) {
	case "AND", "&&":
		a.MatchCondition = config.AllowlistMatchAnd
	case "", "OR", "||":
		a.MatchCondition = config.AllowlistMatchOr
	default:
		return nil, fmt.Errorf("unknown condition %q", ta.Condition)
	}
	switch ta.RegexTarget {
	case "secret":
		a.RegexTarget = ""
	case "", "match", "line":
	default:
		return nil, fmt.Errorf("unknown regexTarget %q", ta.RegexTarget)
	}
	for _, src := range ta.Regexes {
		re, err := regexp.Compile(src)
		if err != nil {
			return nil, err
		}
		a.Regexes = append(a.Regexes, re)
	}
	for _, src := range ta.Paths {
		re, err := regexp.Compile(src)
		if err != nil {
			return nil, err
		}
		a.Paths = append(a.Paths, re)
	}
	a.Commits = ta.Commits
	if len(a.Commits)+len(a.Paths)+len(a.Regexes) > 0 {
		// Validate joins the paths and regexes into one pattern each, as
		// gitleaks matches them (a leading (?i) of one alternative then
		// applies to those after it), and normalizes the commits.
		if err := a.Validate(); err != nil {
			return nil, err
		}
	} else if len(ta.StopWords) == 0 {
		return nil, fmt.Errorf("empty allowlist")
	}
	seen := map[string]bool{}
	for _, w := range ta.StopWords {
		if w = strings.ToLower(w); !seen[w] {
			seen[w] = true
			a.StopWords = append(a.StopWords, w)
		}
	}
	return a, nil
}
