package vuln

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"time"

	"github.com/google/osv-scalibr/semantic"

	"github.com/hallmark-dev/hallmark/finding"
	"github.com/hallmark-dev/hallmark/vuln/osv"
	"github.com/hallmark-dev/hallmark/vuln/osvdb"
	"github.com/hallmark-dev/hallmark/vuln/vex"
)

// DefaultMaxAge is how old imported data may be before a scan is
// incomplete, unless WithMaxAge says otherwise.
const DefaultMaxAge = 72 * time.Hour

// Database is what a Scanner reads: *osvdb.DB implements it.
type Database interface {
	// Meta says what was imported per ecosystem.
	Meta() osvdb.Meta
	// Lookup returns the records naming package name in base ecosystem eco.
	Lookup(eco, name string) ([]*osv.Entry, error)
}

var _ Database = (*osvdb.DB)(nil)

// Scanner matches inventories against a Database. Build one with
// NewScanner and call Scan as often as needed.
type Scanner struct {
	db  Database
	cfg config
}

type config struct {
	maxAge time.Duration
	now    func() time.Time
	vex    *vex.Set
	logger *slog.Logger
}

// Option configures a Scanner.
type Option func(*config) error

// WithMaxAge sets how old an ecosystem's import may be (default
// DefaultMaxAge).
func WithMaxAge(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("%w: max age must be positive, got %s", ErrBadOption, d)
		}
		c.maxAge = d
		return nil
	}
}

// WithClock sets the clock used for staleness and withdrawn records.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return fmt.Errorf("%w: nil clock", ErrBadOption)
		}
		c.now = now
		return nil
	}
}

// WithVEX applies the statements of a VEX set to the findings.
func WithVEX(s *vex.Set) Option {
	return func(c *config) error {
		c.vex = s
		return nil
	}
}

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return fmt.Errorf("%w: nil logger", ErrBadOption)
		}
		c.logger = l
		return nil
	}
}

// NewScanner returns a Scanner over db.
func NewScanner(db Database, opts ...Option) (*Scanner, error) {
	if db == nil {
		return nil, fmt.Errorf("%w: nil database", ErrBadOption)
	}
	c := config{maxAge: DefaultMaxAge, now: time.Now, logger: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		if err := o(&c); err != nil {
			return nil, err
		}
	}
	return &Scanner{db: db, cfg: c}, nil
}

// Report is the result of one scan.
type Report struct {
	StartedAt  time.Time `json:"startedAt"`
	FinishedAt time.Time `json:"finishedAt"`
	// Packages is the number of distinct packages scanned.
	Packages int `json:"packages"`
	// Findings, suppressed ones included, ordered by package then ID.
	Findings []Finding `json:"findings"`
	// Unevaluated lists package/record pairs that could not be decided.
	Unevaluated []Unevaluated `json:"unevaluated,omitempty"`
	// Database is the meta of the database used.
	Database osvdb.Meta `json:"database"`
	// Problems is why the report is incomplete; empty when complete.
	Problems []Problem `json:"problems,omitempty"`
}

// Unevaluated is a record that could not be decided for a package.
type Unevaluated struct {
	Package Package `json:"package"`
	ID      string  `json:"id,omitempty"`
	Reason  string  `json:"reason"`
}

// Complete reports whether the report can be trusted as exhaustive.
func (r *Report) Complete() bool { return len(r.Problems) == 0 }

// Active returns the findings not suppressed by VEX.
func (r *Report) Active() []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Suppressed == nil {
			out = append(out, f)
		}
	}
	return out
}

// Scan matches pkgs against the database. It always returns a Report;
// the error is non-nil (an *IncompleteError) when the report may miss
// vulnerabilities, and callers must then not treat it as clean.
func (s *Scanner) Scan(ctx context.Context, pkgs []Package) (*Report, error) {
	now := s.cfg.now()
	meta := s.db.Meta()
	rep := &Report{StartedAt: now, Database: meta}
	if meta.Records() == 0 {
		rep.Problems = append(rep.Problems, newProblem(ErrDBEmpty, "", "no records were imported; run the database update first"))
	}
	seen := map[string]bool{}
	var todo []Package
	for _, p := range pkgs {
		p = p.normalized().withPURL()
		if osv.BaseEcosystem(p.Ecosystem) == "Go" {
			p.Version = goVersion(p.Name, p.Version)
		}
		if seen[p.key()] {
			continue
		}
		seen[p.key()] = true
		todo = append(todo, p)
	}
	rep.Packages = len(todo)
	if len(todo) == 0 {
		rep.Problems = append(rep.Problems, newProblem(ErrNoPackages, "", "the inventory lists no packages, so nothing was checked"))
	}
	ecoOK := map[string]bool{}
	checked := map[string]bool{}
	for _, p := range todo {
		eco := osv.BaseEcosystem(p.Ecosystem)
		if eco == "" {
			rep.Unevaluated = append(rep.Unevaluated, Unevaluated{Package: p, Reason: "package has no ecosystem"})
			continue
		}
		if checked[eco] {
			continue
		}
		checked[eco] = true
		m, ok := meta.Ecosystems[eco]
		switch {
		case !ok || m.Records == 0:
			rep.Problems = append(rep.Problems, newProblem(ErrNoEcosystemData, eco, "the inventory has %s packages but the database has no %s records", eco, eco))
		case now.Sub(m.ImportedAt) > s.cfg.maxAge:
			rep.Problems = append(rep.Problems, newProblem(ErrDBStale, eco, "%s data was imported at %s, more than %s before %s", eco, m.ImportedAt.Format(time.RFC3339), s.cfg.maxAge, now.Format(time.RFC3339)))
			ecoOK[eco] = true
		default:
			ecoOK[eco] = true
		}
	}
	for _, p := range todo {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		eco := osv.BaseEcosystem(p.Ecosystem)
		if !ecoOK[eco] {
			continue
		}
		entries, err := s.db.Lookup(eco, p.Name)
		if err != nil {
			rep.Problems = append(rep.Problems, newProblem(ErrDBUnreadable, eco, "looking up %s: %v", p.Name, err))
			continue
		}
		fs, unev, err := s.match(p, entries, now)
		if err != nil {
			rep.Problems = append(rep.Problems, newProblem(ErrDBUnreadable, eco, "rating %s: %v", p.Name, err))
		}
		rep.Findings = append(rep.Findings, fs...)
		rep.Unevaluated = append(rep.Unevaluated, unev...)
	}
	if len(rep.Unevaluated) > 0 {
		rep.Problems = append(rep.Problems, newProblem(ErrUnevaluable, "", "%d package/record pairs could not be decided (see the report's unevaluated list)", len(rep.Unevaluated)))
	}
	slices.SortFunc(rep.Findings, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.Package.Ecosystem, b.Package.Ecosystem), cmp.Compare(a.Package.Name, b.Package.Name),
			cmp.Compare(a.Package.Version, b.Package.Version), cmp.Compare(a.ID, b.ID))
	})
	rep.FinishedAt = s.cfg.now()
	if len(rep.Problems) > 0 {
		return rep, &IncompleteError{Problems: rep.Problems}
	}
	return rep, nil
}

// hit is one record that affects a package.
type hit struct {
	entry *osv.Entry
	v     verdict
}

// match evaluates the records of one package and merges alias groups.
func (s *Scanner) match(p Package, entries []*osv.Entry, now time.Time) ([]Finding, []Unevaluated, error) {
	var hits []hit
	var unev []Unevaluated
	for _, e := range entries {
		if e.WithdrawnAt(now) {
			continue
		}
		v := evaluate(e, p)
		switch {
		case v.affected:
			hits = append(hits, hit{entry: e, v: v})
		case v.unevaluable != "":
			unev = append(unev, Unevaluated{Package: p, ID: e.ID, Reason: v.unevaluable})
		}
	}
	var out []Finding
	var errs []error
	for _, group := range aliasGroups(hits) {
		f, err := s.finding(p, group)
		out = append(out, f)
		errs = append(errs, err)
	}
	return out, unev, errors.Join(errs...)
}

// aliasGroups partitions hits so that records sharing an ID or alias
// (directly or through other records) are in one group.
func aliasGroups(hits []hit) [][]hit {
	parent := make([]int, len(hits))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	owner := map[string]int{}
	for i, h := range hits {
		for _, name := range append([]string{h.entry.ID}, h.entry.Aliases...) {
			if j, ok := owner[name]; ok {
				parent[find(i)] = find(j)
			} else {
				owner[name] = i
			}
		}
	}
	groups := map[int][]hit{}
	var roots []int
	for i, h := range hits {
		r := find(i)
		if _, ok := groups[r]; !ok {
			roots = append(roots, r)
		}
		groups[r] = append(groups[r], h)
	}
	out := make([][]hit, 0, len(roots))
	for _, r := range roots {
		out = append(out, groups[r])
	}
	return out
}

func (s *Scanner) finding(p Package, group []hit) (Finding, error) {
	f := Finding{Package: p, InstalledVersion: p.Version}
	ids := map[string]bool{}
	aliases := map[string]bool{}
	refs := map[string]bool{}
	for _, h := range group {
		ids[h.entry.ID] = true
		for _, a := range h.entry.Aliases {
			aliases[a] = true
		}
		if f.Summary == "" {
			f.Summary = h.entry.Summary
		}
		for _, fx := range h.v.fixed {
			if !slices.Contains(f.FixedVersions, fx) {
				f.FixedVersions = append(f.FixedVersions, fx)
			}
		}
		for _, r := range h.entry.References {
			if r.Type == "ADVISORY" && !refs[r.URL] {
				refs[r.URL] = true
				f.References = append(f.References, r.URL)
			}
		}
		r := rate(h.entry, h.v.matched)
		if r.Severity > f.Rating.Severity || (r.Severity == f.Rating.Severity && r.Score > f.Rating.Score) {
			f.Rating = r
		}
	}
	for id := range ids {
		f.IDs = append(f.IDs, id)
		delete(aliases, id)
	}
	sort.Strings(f.IDs)
	f.ID = f.IDs[0]
	for a := range aliases {
		f.Aliases = append(f.Aliases, a)
	}
	sort.Strings(f.Aliases)
	var rateErr error
	if src, ok := s.db.(RatingSource); ok && f.Rating.Severity == finding.SeverityUnknown {
		f.Rating, rateErr = aliasRating(src, osv.BaseEcosystem(p.Ecosystem), ids, append(append([]string{}, f.IDs...), f.Aliases...))
	}
	sortVersions(f.FixedVersions, osv.BaseEcosystem(p.Ecosystem))
	if s.cfg.vex != nil {
		names := append(append([]string{}, f.IDs...), f.Aliases...)
		if m, ok := s.cfg.vex.Find(names, p.PURL); ok && m.Suppresses() {
			f.Suppressed = &Suppression{
				Document: m.Document.ID, Source: m.Document.Source, Author: m.Document.Author,
				Vulnerability: m.Statement.Vulnerability.Name, Status: string(m.Statement.Status),
				Justification: m.Statement.Justification, ImpactStatement: m.Statement.ImpactStatement,
				Timestamp: m.Timestamp,
			}
		}
	}
	return f, rateErr
}

// sortVersions orders versions by the ecosystem's rules, leaving the order
// unchanged when some version does not parse.
func sortVersions(vs []string, eco string) {
	parsed := make([]semantic.Version, len(vs))
	for i, v := range vs {
		pv, err := semantic.Parse(v, eco)
		if err != nil {
			return
		}
		parsed[i] = pv
	}
	idx := make([]int, len(vs))
	for i := range idx {
		idx[i] = i
	}
	var cmpErr error
	sort.SliceStable(idx, func(a, b int) bool {
		c, err := parsed[idx[a]].Compare(parsed[idx[b]])
		if err != nil {
			cmpErr = err
		}
		return c < 0
	})
	if cmpErr != nil {
		return
	}
	out := make([]string, len(vs))
	for i, j := range idx {
		out[i] = vs[j]
	}
	copy(vs, out)
}
