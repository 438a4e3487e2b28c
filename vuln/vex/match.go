package vex

import (
	"strings"
	"time"

	"github.com/package-url/packageurl-go"
)

// Match is the statement that decides a (vulnerability, package) pair.
type Match struct {
	Document  *Document
	Statement Statement
	// Timestamp is the statement's, or else the document's, timestamp.
	Timestamp time.Time
}

// Suppresses reports whether the statement waives the finding: status
// not_affected or fixed.
func (m Match) Suppresses() bool {
	return m.Statement.Status == StatusNotAffected || m.Statement.Status == StatusFixed
}

// Set is a group of documents consulted together.
type Set struct {
	docs     []*Document
	subjects []packageurl.PackageURL
}

// NewSet groups documents. subjects are purls of the artifact being scanned
// (e.g. pkg:oci/...); when given, a statement whose product has
// subcomponents applies only if the product is one of them, and a statement
// whose product is a subject applies to every package in it. With no
// subjects, products with subcomponents are not checked against anything.
func NewSet(docs []*Document, subjects ...string) *Set {
	s := &Set{docs: docs}
	for _, p := range subjects {
		if u, err := packageurl.FromString(p); err == nil {
			s.subjects = append(s.subjects, u)
		}
	}
	return s
}

// Find returns the deciding statement about a vulnerability known by any of
// ids (IDs and aliases) in the package with purl pkgPURL.
func (s *Set) Find(ids []string, pkgPURL string) (Match, bool) {
	if s == nil || pkgPURL == "" {
		return Match{}, false
	}
	pkg, err := packageurl.FromString(pkgPURL)
	if err != nil {
		return Match{}, false
	}
	var best Match
	found := false
	for _, d := range s.docs {
		for _, st := range d.Statements {
			if !namesAny(st.Vulnerability, ids) || !s.appliesTo(st, pkg) {
				continue
			}
			ts := time.Time{}
			if d.Timestamp != nil {
				ts = *d.Timestamp
			}
			if st.Timestamp != nil {
				ts = *st.Timestamp
			}
			if !found || !ts.Before(best.Timestamp) {
				best, found = Match{Document: d, Statement: st, Timestamp: ts}, true
			}
		}
	}
	return best, found
}

func namesAny(v Vulnerability, ids []string) bool {
	names := append([]string{v.Name, v.ID}, v.Aliases...)
	for _, n := range names {
		if n == "" {
			continue
		}
		for _, id := range ids {
			if strings.EqualFold(n, id) {
				return true
			}
		}
	}
	return false
}

func (s *Set) appliesTo(st Statement, pkg packageurl.PackageURL) bool {
	for _, p := range st.Products {
		if len(p.Subcomponents) == 0 {
			if matchesAny(p.purls(), pkg) || s.isSubject(p) {
				return true
			}
			continue
		}
		if len(s.subjects) > 0 && !s.isSubject(p) {
			continue
		}
		for _, c := range p.Subcomponents {
			if matchesAny(c.purls(), pkg) {
				return true
			}
		}
	}
	return false
}

func (s *Set) isSubject(p Product) bool {
	for _, subj := range s.subjects {
		if matchesAny(p.purls(), subj) {
			return true
		}
	}
	return false
}

func matchesAny(purls []string, pkg packageurl.PackageURL) bool {
	for _, p := range purls {
		if purlMatches(p, pkg) {
			return true
		}
	}
	return false
}

// purlMatches reports whether the VEX purl pattern names pkg: same type,
// namespace and name; the same version if the pattern has one; and every
// qualifier of the pattern present with the same value in pkg.
func purlMatches(pattern string, pkg packageurl.PackageURL) bool {
	p, err := packageurl.FromString(pattern)
	if err != nil {
		return false
	}
	if !strings.EqualFold(p.Type, pkg.Type) || p.Namespace != pkg.Namespace || p.Name != pkg.Name {
		return false
	}
	if p.Version != "" && p.Version != pkg.Version {
		return false
	}
	have := pkg.Qualifiers.Map()
	for k, v := range p.Qualifiers.Map() {
		if have[k] != v {
			return false
		}
	}
	return true
}
