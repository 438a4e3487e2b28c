package rules

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/spf13/viper"
	"github.com/zricethezav/gitleaks/v8/config"
	"github.com/zricethezav/gitleaks/v8/detect"
	"github.com/zricethezav/gitleaks/v8/report"
)

//go:embed hallmark.toml
var hallmarkRules string

// ErrRuleSet is returned when a rule set cannot be loaded or merged.
var ErrRuleSet = errors.New("invalid secret rule set")

// DefaultDecodeDepth is how many rounds of base64/hex/percent decoding
// gitleaks applies to a text before matching again, so that credentials
// stored encoded (Kubernetes Secret data, basic-auth headers) are found.
// Decoding costs about as much again as matching.
const DefaultDecodeDepth = 1

// maxDecodeDepth bounds DecodeDepth.
const maxDecodeDepth = 5

// Option configures New.
type Option func(*options) error

type options struct {
	decodeDepth int
	reference   bool
}

// GitleaksEngine makes the Detector match with gitleaks' own detector, the
// reference that the default engine is tested against, instead of the
// default engine, which finds the same and is several times faster (see
// docs/secrets.md). For equivalence tests and benchmarks.
func GitleaksEngine() Option {
	return func(o *options) error {
		o.reference = true
		return nil
	}
}

// DecodeDepth sets how many rounds of decoding are applied (0 disables
// decoding; at most 5).
func DecodeDepth(n int) Option {
	return func(o *options) error {
		if n < 0 || n > maxDecodeDepth {
			return fmt.Errorf("%w: decode depth %d outside 0..%d", ErrRuleSet, n, maxDecodeDepth)
		}
		o.decodeDepth = n
		return nil
	}
}

// Rule describes one detection rule.
type Rule struct {
	// ID is the gitleaks rule ID (e.g. "aws-access-token").
	ID string
	// Description is the rule's one-line description.
	Description string
	// Regex is the rule's regular expression source; empty for path-only rules.
	Regex string
	// Keywords are the lower-case keywords that gate the regex.
	Keywords []string
	// Entropy is the minimum Shannon entropy of the secret; 0 means none.
	Entropy float64
	// Hallmark is true for rules Hallmark adds to the gitleaks defaults.
	Hallmark bool
}

// Match is one rule match in a text. Secret holds the raw credential: it is
// for masking and allowlist checks only and must never be printed.
type Match struct {
	// RuleID is the ID of the rule that matched.
	RuleID string
	// Description is the rule description.
	Description string
	// Secret is the captured credential (raw; never print it).
	Secret string
	// Line and Column are 1-based; Column counts bytes.
	Line, Column int
	// Start and End are the byte offsets of the whole match in the text. For
	// a match found after decoding, they span the encoded text.
	Start, End int
	// Decoded is true when the match was found in decoded (base64, hex or
	// percent-encoded) content.
	Decoded bool
	// Hallmark is true when the rule is one Hallmark adds to gitleaks'.
	Hallmark bool
}

// Detector finds credentials in text. It is safe for concurrent use.
type Detector struct {
	gl    *detect.Detector // nil when eng matches
	eng   *engine          // nil: match with gl
	rules []Rule
	added map[string]bool
}

// loaded memoizes the decoded rule set: it is derived only from embedded,
// constant TOML, so every Detector can share it read-only (each engine
// compiles its own regexps).
var loaded = sync.OnceValues(loadRuleSet)

// loadedGitleaks memoizes the rule set as gitleaks' own loader builds it,
// for gitleaks' detector (GitleaksEngine, multi-part rules).
var loadedGitleaks = sync.OnceValues(load)

// New returns a Detector over gitleaks' default rules plus Hallmark's rules.
func New(opts ...Option) (*Detector, error) {
	o := options{decodeDepth: DefaultDecodeDepth}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	rs, err := loaded()
	if err != nil {
		return nil, err
	}
	cfg := rs.cfg
	d := &Detector{added: rs.added}
	multipart := false
	for _, id := range cfg.OrderedRules {
		r := cfg.Rules[id]
		multipart = multipart || len(r.RequiredRules) > 0
		d.rules = append(d.rules, Rule{ID: id, Description: r.Description, Regex: rs.regex[id], Keywords: r.Keywords, Entropy: r.Entropy, Hallmark: rs.added[id]})
	}
	// Multi-part rules (none in the embedded set) are left to gitleaks.
	if !o.reference && !multipart {
		d.eng = newEngine(rs, o.decodeDepth)
		return d, nil
	}
	gl, err := loadedGitleaks()
	if err != nil {
		return nil, err
	}
	// gitleaks' detector (its keyword trie takes a third of the start-up)
	// only where it matches.
	d.gl = detect.NewDetector(gl.cfg)
	d.gl.MaxDecodeDepth = o.decodeDepth
	// Only Hallmark's inline comment, which must carry a reason, may waive
	// a finding; a bare "gitleaks:allow" is not honoured.
	d.gl.IgnoreGitleaksAllow = true
	return d, nil
}

// Rules returns the rules of the detector in a stable order.
func (d *Detector) Rules() []Rule { return slices.Clone(d.rules) }

// Find returns the credentials found in text. path, if not empty, is the
// '/'-separated name of the text's file; it feeds gitleaks' path rules and
// its default path allowlist (lockfiles, vendored trees). Matches are sorted
// by position.
func (d *Detector) Find(ctx context.Context, text, path string) []Match {
	return d.Scope(path).Find(ctx, text)
}

// Scope is a Detector bound to one file: the checks that depend only on the
// path (gitleaks' path allowlists and path rules) are done once for all the
// texts of a file that is searched in chunks.
type Scope struct {
	d    *Detector
	path string
	sc   *scope // nil with the reference engine
}

// Scope returns the Detector bound to path, as Find takes it.
func (d *Detector) Scope(path string) *Scope {
	s := &Scope{d: d, path: path}
	if d.eng != nil {
		s.sc = d.eng.scope(path)
	}
	return s
}

// Find is Detector.Find for the scope's path.
func (s *Scope) Find(ctx context.Context, text string) []Match {
	d := s.d
	var found []report.Finding
	if s.sc != nil {
		found = d.eng.find(ctx, text, s.sc)
	} else {
		found = d.gl.DetectContext(ctx, detect.Fragment{Raw: text, FilePath: s.path, StartLine: 1})
	}
	if len(found) == 0 {
		return nil
	}
	var nl []int // offsets of '\n' in text
	for i := 0; i < len(text); i++ {
		if text[i] == '\n' {
			nl = append(nl, i)
		}
	}
	// gitleaks counts columns from the previous newline's offset (or 0 on
	// the first line); before(l) recovers that base for 1-based line l.
	before := func(l int) int {
		if l <= 1 || l-2 >= len(nl) {
			if l > 1 && len(nl) > 0 {
				return nl[len(nl)-1]
			}
			return 0
		}
		return nl[l-2]
	}
	clamp := func(v int) int { return min(max(v, 0), len(text)) }
	out := make([]Match, 0, len(found))
	for _, f := range found {
		m := Match{RuleID: f.RuleID, Description: f.Description, Secret: f.Secret, Line: f.StartLine, Hallmark: d.added[f.RuleID]}
		m.Start = clamp(before(f.StartLine) + f.StartColumn - 1)
		m.End = max(clamp(before(f.EndLine)+f.EndColumn), m.Start)
		m.Column = f.StartColumn
		if f.StartLine > 1 {
			m.Column--
		}
		for _, t := range f.Tags {
			if strings.HasPrefix(t, "decoded:") {
				m.Decoded = true
			}
		}
		if f.Match == "" || strings.HasPrefix(f.Match, "file detected:") {
			// Path-only rules (e.g. pkcs12-file) match the file, not text.
			m.Line, m.Column, m.Start, m.End = 0, 0, 0, 0
		}
		out = append(out, m)
	}
	slices.SortStableFunc(out, func(a, b Match) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		return strings.Compare(a.RuleID, b.RuleID)
	})
	return out
}

// gitleaksSet is the rule set as gitleaks' loader builds it (every regexp
// compiled) and the IDs Hallmark added.
type gitleaksSet struct {
	cfg   config.Config
	added map[string]bool
}

// load parses gitleaks' embedded default configuration and Hallmark's rules
// with gitleaks' own loader and a private viper instance (the gitleaks
// helper uses viper's global one) and merges them.
func load() (gitleaksSet, error) {
	cfg, err := parse("gitleaks default", config.DefaultConfig)
	if err != nil {
		return gitleaksSet{}, err
	}
	extra, err := parse("hallmark.toml", hallmarkRules)
	if err != nil {
		return gitleaksSet{}, err
	}
	added := map[string]bool{}
	for _, id := range extra.OrderedRules {
		if _, dup := cfg.Rules[id]; dup {
			return gitleaksSet{}, fmt.Errorf("%w: hallmark.toml redefines gitleaks rule %q", ErrRuleSet, id)
		}
		r := extra.Rules[id]
		cfg.Rules[id] = r
		added[id] = true
		cfg.OrderedRules = append(cfg.OrderedRules, id)
		for _, k := range r.Keywords {
			cfg.Keywords[k] = struct{}{}
		}
	}
	cfg.Allowlists = append(cfg.Allowlists, extra.Allowlists...)
	return gitleaksSet{cfg: cfg, added: added}, nil
}

func parse(name, text string) (config.Config, error) {
	v := viper.New()
	v.SetConfigType("toml")
	if err := v.ReadConfig(strings.NewReader(text)); err != nil {
		return config.Config{}, fmt.Errorf("%w: reading %s: %w", ErrRuleSet, name, err)
	}
	var vc config.ViperConfig
	if err := v.Unmarshal(&vc); err != nil {
		return config.Config{}, fmt.Errorf("%w: decoding %s: %w", ErrRuleSet, name, err)
	}
	cfg, err := vc.Translate()
	if err != nil {
		return config.Config{}, fmt.Errorf("%w: compiling %s: %w", ErrRuleSet, name, err)
	}
	return cfg, nil
}
