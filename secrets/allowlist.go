package secrets

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/hallmark-dev/hallmark/finding"
	"github.com/hallmark-dev/hallmark/internal/limits"
	"gopkg.in/yaml.v3"
)

// ErrAllowlist is returned when an allowlist file is malformed.
var ErrAllowlist = errors.New("invalid secret allowlist")

// maxAllowlistBytes bounds the size of an allowlist file.
const maxAllowlistBytes = 1 << 20

// Allowlist waives findings. Build one with ParseAllowlist or LoadAllowlist.
//
// The file is YAML:
//
//	version: 1
//	entries:
//	  - reason: test fixtures carry canary keys   # required
//	    paths: ['^testdata/', '_test\.go$']        # regexes on the location
//	    rules: [generic-api-key, private-key]      # rule IDs
//	    fingerprints: ['conf/app.env:aws-access-token:3']
//	    regexes: ['^AKIA[A-Z2-7]{12}CANARY$']      # regexes on the secret
//
// An entry waives a finding when every criterion it sets matches (each
// criterion matches if any of its values does); an entry must give a reason
// and at least one criterion. Paths are matched, unanchored, against the
// finding's location written as "path" or "path!member" ('/' separators).
// Fingerprints are "location:rule:line" as reported by Fingerprint. Regexes
// are matched against the secret value itself, which never leaves the
// scanner.
type Allowlist struct {
	entries []allowEntry
}

type allowEntry struct {
	reason       string
	paths        []*regexp.Regexp
	rules        []string
	fingerprints []string
	regexes      []*regexp.Regexp
}

type allowlistFile struct {
	Version int `yaml:"version"`
	Entries []struct {
		Reason       string   `yaml:"reason"`
		Paths        []string `yaml:"paths"`
		Rules        []string `yaml:"rules"`
		Fingerprints []string `yaml:"fingerprints"`
		Regexes      []string `yaml:"regexes"`
	} `yaml:"entries"`
}

// LoadAllowlist reads and parses an allowlist file.
func LoadAllowlist(path string) (*Allowlist, error) {
	f, err := limits.OpenFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrAllowlist, err)
	}
	defer f.Close()
	a, err := ParseAllowlist(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

// ParseAllowlist parses an allowlist in the YAML format described on
// Allowlist. Unknown fields are rejected so that a typo cannot silently
// widen or void a waiver.
func ParseAllowlist(r io.Reader) (*Allowlist, error) {
	b, err := limits.ReadAll(r, maxAllowlistBytes, "allowlist")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrAllowlist, err)
	}
	var f allowlistFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: %w", ErrAllowlist, err)
	}
	if f.Version != 1 {
		return nil, fmt.Errorf("%w: version %d, want 1", ErrAllowlist, f.Version)
	}
	a := &Allowlist{}
	for i, e := range f.Entries {
		where := fmt.Sprintf("entry %d", i+1)
		if strings.TrimSpace(e.Reason) == "" {
			return nil, fmt.Errorf("%w: %s has no reason", ErrAllowlist, where)
		}
		if len(e.Paths)+len(e.Rules)+len(e.Fingerprints)+len(e.Regexes) == 0 {
			return nil, fmt.Errorf("%w: %s sets no paths, rules, fingerprints or regexes (it would waive everything)", ErrAllowlist, where)
		}
		ae := allowEntry{reason: strings.TrimSpace(e.Reason), rules: e.Rules, fingerprints: e.Fingerprints}
		for _, p := range e.Paths {
			re, err := regexp.Compile(p)
			if err != nil {
				return nil, fmt.Errorf("%w: %s path %q: %w", ErrAllowlist, where, p, err)
			}
			ae.paths = append(ae.paths, re)
		}
		for _, p := range e.Regexes {
			re, err := regexp.Compile(p)
			if err != nil {
				return nil, fmt.Errorf("%w: %s regex %q: %w", ErrAllowlist, where, p, err)
			}
			ae.regexes = append(ae.regexes, re)
		}
		a.entries = append(a.entries, ae)
	}
	return a, nil
}

// match returns the reason of the first entry that waives f, whose secret
// value is secret.
func (a *Allowlist) match(f *finding.Finding, secret string) (string, bool) {
	if a == nil {
		return "", false
	}
	loc := Where(f.Location)
	fp := Fingerprint(*f)
	for _, e := range a.entries {
		if len(e.paths) > 0 && !slices.ContainsFunc(e.paths, func(re *regexp.Regexp) bool { return re.MatchString(loc) }) {
			continue
		}
		if len(e.rules) > 0 && !slices.Contains(e.rules, f.RuleID) {
			continue
		}
		if len(e.fingerprints) > 0 && !slices.Contains(e.fingerprints, fp) {
			continue
		}
		if len(e.regexes) > 0 && !slices.ContainsFunc(e.regexes, func(re *regexp.Regexp) bool { return re.MatchString(secret) }) {
			continue
		}
		return e.reason, true
	}
	return "", false
}

// Where renders a location as "path" or "path!member".
func Where(l finding.Location) string {
	if l.Member == "" {
		return l.Path
	}
	return l.Path + "!" + l.Member
}

// Fingerprint identifies a finding for allowlists: "location:rule:line",
// with location as rendered by Where.
func Fingerprint(f finding.Finding) string {
	return fmt.Sprintf("%s:%s:%d", Where(f.Location), f.RuleID, f.Location.Line)
}
