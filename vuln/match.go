package vuln

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/osv-scalibr/semantic"
	"golang.org/x/mod/semver"

	"github.com/hallmark-dev/hallmark/vuln/osv"
)

// verdict is the outcome of evaluating one record against one package.
type verdict struct {
	affected bool
	// fixed lists the fixed versions named by the affected entries that
	// matched the package.
	fixed []string
	// unevaluable says why the record could not be decided; set only when
	// affected is false.
	unevaluable string
	// matched holds the affected entries for this package that matched.
	matched []osv.Affected
}

// evaluate decides whether record e affects pkg. Only affected entries for
// the package's ecosystem and name are considered; when both the package
// and the entry carry an ecosystem suffix (e.g. "Debian:12"), they must be
// equal.
func evaluate(e *osv.Entry, pkg Package) verdict {
	var v verdict
	var reasons []string
	eco := osv.BaseEcosystem(pkg.Ecosystem)
	name := osv.NormalizeName(eco, pkg.Name)
	for _, a := range e.Affected {
		if osv.BaseEcosystem(a.Package.Ecosystem) != eco || osv.NormalizeName(eco, a.Package.Name) != name {
			continue
		}
		if !suffixCompatible(pkg.Ecosystem, a.Package.Ecosystem) {
			continue
		}
		aff, reason := affects(a, pkg)
		if aff {
			v.affected = true
			v.matched = append(v.matched, a)
			for _, r := range a.Ranges {
				for _, ev := range r.Events {
					if ev.Fixed != "" && r.Type != osv.RangeGit && !slices.Contains(v.fixed, ev.Fixed) {
						v.fixed = append(v.fixed, ev.Fixed)
					}
				}
			}
		} else if reason != "" {
			reasons = append(reasons, reason)
		}
	}
	if !v.affected && len(reasons) > 0 {
		v.unevaluable = strings.Join(reasons, "; ")
	}
	return v
}

// suffixCompatible reports whether a package's ecosystem and a record's
// name the same release, when both name one (osv.Release: Ubuntu's ":Pro"
// and ":LTS" variants are the release they qualify).
func suffixCompatible(pkgEco, recEco string) bool {
	ps, rs := osv.Release(pkgEco), osv.Release(recEco)
	return ps == "" || rs == "" || ps == rs
}

// affects evaluates one affected entry. It returns a non-empty reason when
// the entry could not be evaluated and did not match.
func affects(a osv.Affected, pkg Package) (bool, string) {
	eco := osv.BaseEcosystem(pkg.Ecosystem)
	if pkg.Version == "" && pkg.Commit == "" {
		return false, "package has no version"
	}
	if len(a.Ranges) == 0 && len(a.Versions) == 0 {
		// The OSV schema leaves this case open; like govulncheck, treat
		// an entry without ranges or versions as affecting every version.
		return true, ""
	}
	var reasons []string
	var pv semantic.Version
	var pvErr error
	switch {
	case pkg.Version == "":
		pvErr = errors.New("package has no version")
	case eco == "Go" && !semver.IsValid("v"+strings.TrimPrefix(pkg.Version, "v")):
		// semantic's SemVer parser is lenient; "(devel)" or a branch name
		// must not be read as a very old version.
		pvErr = fmt.Errorf("%w: not a Go module version", semantic.ErrInvalidVersion)
	default:
		pv, pvErr = semantic.Parse(pkg.Version, eco)
	}
	for _, s := range a.Versions {
		if s == pkg.Version {
			return true, ""
		}
		if pvErr == nil {
			if c, err := pv.CompareStr(s); err == nil && c == 0 {
				return true, ""
			}
		}
	}
	evaluated := len(a.Versions) > 0
	var gitReasons []string
	for _, r := range a.Ranges {
		switch r.Type {
		case osv.RangeGit:
			aff, ok := gitAffects(r, pkg.Commit)
			if ok && aff {
				return true, ""
			}
			if ok {
				evaluated = true
				continue
			}
			if pkg.Commit == "" {
				gitReasons = append(gitReasons, fmt.Sprintf("GIT range in %s needs the package's commit", r.Repo))
			} else {
				gitReasons = append(gitReasons, fmt.Sprintf("commit %s is not an event of the GIT range in %s and repository history is not available", pkg.Commit, r.Repo))
			}
		case osv.RangeSemver, osv.RangeEcosystem:
			var ver semantic.Version
			var err error
			if r.Type == osv.RangeSemver {
				if pvErr != nil && (pkg.Version == "" || eco == "Go") {
					err = pvErr
				} else {
					ver = semantic.ParseSemverVersion(pkg.Version)
				}
			} else {
				ver, err = pv, pvErr
			}
			if err != nil {
				reasons = append(reasons, fmt.Sprintf("version %q in %s: %v", pkg.Version, eco, err))
				continue
			}
			aff, err := rangeAffects(r, ver, eco)
			if err != nil {
				reasons = append(reasons, err.Error())
				continue
			}
			if aff {
				return true, ""
			}
			evaluated = true
		}
	}
	// GIT ranges that cannot be checked are covered when the entry also
	// carries an enumerated version list or another evaluated range (OSV
	// producers derive those from the same GIT history).
	if !evaluated {
		reasons = append(reasons, gitReasons...)
	}
	return false, strings.Join(reasons, "; ")
}

// point is one event with its parsed version.
type point struct {
	ev  osv.Event
	ver semantic.Version // nil for introduced "0" and limit "*"
}

func (p point) value() string {
	switch {
	case p.ev.Introduced != "":
		return p.ev.Introduced
	case p.ev.Fixed != "":
		return p.ev.Fixed
	case p.ev.LastAffected != "":
		return p.ev.LastAffected
	}
	return p.ev.Limit
}

// rangeAffects applies the OSV evaluation algorithm to a SEMVER or
// ECOSYSTEM range: sort events by version, walk them, and let introduced
// turn "affected" on, fixed (v >= fixed) and last_affected (v >
// last_affected) turn it off; limit events cap the range at v < limit.
func rangeAffects(r osv.Range, v semantic.Version, eco string) (bool, error) {
	pts := make([]point, 0, len(r.Events))
	var limits []point
	for _, ev := range r.Events {
		p := point{ev: ev}
		s := p.value()
		if !(ev.Introduced == "0" || ev.Limit == "*") {
			var pv semantic.Version
			var err error
			if r.Type == osv.RangeSemver {
				pv = semantic.ParseSemverVersion(s)
			} else {
				pv, err = semantic.Parse(s, eco)
			}
			if err != nil {
				return false, fmt.Errorf("event version %q in %s: %v", s, eco, err)
			}
			p.ver = pv
		}
		if ev.Limit != "" {
			limits = append(limits, p)
			continue
		}
		pts = append(pts, p)
	}
	var sortErr error
	slices.SortStableFunc(pts, func(a, b point) int {
		switch {
		case a.ver == nil && b.ver == nil:
			return 0
		case a.ver == nil:
			return -1
		case b.ver == nil:
			return 1
		}
		c, err := a.ver.Compare(b.ver)
		if err != nil {
			sortErr = err
		}
		return c
	})
	if sortErr != nil {
		return false, sortErr
	}
	affected := false
	for _, p := range pts {
		cmp := 1 // v compared to the event version; introduced "0" is -inf
		if p.ver != nil {
			c, err := v.Compare(p.ver)
			if err != nil {
				return false, err
			}
			cmp = c
		}
		switch {
		case p.ev.Introduced != "":
			if cmp >= 0 {
				affected = true
			}
		case p.ev.Fixed != "":
			if cmp >= 0 {
				affected = false
			}
		case p.ev.LastAffected != "":
			if cmp > 0 {
				affected = false
			}
		}
	}
	if !affected || len(limits) == 0 {
		return affected, nil
	}
	for _, l := range limits {
		if l.ver == nil {
			return true, nil
		}
		c, err := v.Compare(l.ver)
		if err != nil {
			return false, err
		}
		if c < 0 {
			return true, nil
		}
	}
	return false, nil
}

// gitAffects evaluates a GIT range by exact commit only: without the
// repository's history, only a commit that is itself an event can be
// placed. ok is false when the commit cannot be placed.
func gitAffects(r osv.Range, commit string) (affected, ok bool) {
	if commit == "" {
		return false, false
	}
	same := func(s string) bool {
		return s != "" && len(s) >= 7 && len(commit) >= 7 && (strings.HasPrefix(commit, s) || strings.HasPrefix(s, commit))
	}
	for _, ev := range r.Events {
		switch {
		case same(ev.Fixed), same(ev.Limit):
			return false, true
		case same(ev.Introduced), same(ev.LastAffected):
			return true, true
		}
	}
	return false, false
}
