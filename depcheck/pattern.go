package depcheck

import (
	"fmt"
	"net/url"
	"path"
	"strings"

	"github.com/google/osv-scalibr/semantic"
	"github.com/package-url/packageurl-go"
)

// Pattern matches package URLs. Its text form is a purl whose type,
// namespace/name and version may use '*' wildcards (path.Match syntax within
// each '/'-separated segment), and whose version may instead be a range of
// comparators: "pkg:npm/event-stream@3.3.6", "pkg:npm/*", "pkg:npm/@acme/*",
// "pkg:maven/org.apache.logging.log4j/log4j-core@>=2.0.0,<2.17.1".
// Qualifiers and subpaths are not part of a pattern.
type Pattern struct {
	text    string
	typ     string // lower case; may contain '*'
	name    string // namespace/name, unescaped; may contain '*'
	version string // exact or glob; empty with ranges or no version
	ranges  []comparator
}

type comparator struct {
	op string // one of < <= > >= = !=
	v  string
}

// String returns the pattern as written.
func (p Pattern) String() string { return p.text }

// ParsePattern parses a purl pattern.
func ParsePattern(s string) (Pattern, error) {
	p := Pattern{text: s}
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), "pkg:")
	if !ok {
		return p, fmt.Errorf("%w: %q does not start with pkg:", ErrPattern, s)
	}
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		return p, fmt.Errorf("%w: %q: qualifiers and subpaths are not supported in patterns", ErrPattern, s)
	}
	typ, nameVer, ok := strings.Cut(rest, "/")
	if !ok || typ == "" || nameVer == "" {
		return p, fmt.Errorf("%w: %q: want pkg:TYPE/NAME[@VERSION]", ErrPattern, s)
	}
	p.typ = strings.ToLower(typ)
	// Names are compared folded per the purl type (see canonicalName).
	// The version starts at the last '@' of the last segment, so that an npm
	// scope ("@acme/x") is not mistaken for one.
	lastSlash := strings.LastIndexByte(nameVer, '/')
	if at := strings.LastIndexByte(nameVer, '@'); at > lastSlash {
		nameVer, p.version = nameVer[:at], nameVer[at+1:]
		if p.version == "" {
			return p, fmt.Errorf("%w: %q: empty version after '@'", ErrPattern, s)
		}
	}
	name, err := url.PathUnescape(nameVer)
	if err != nil {
		return p, fmt.Errorf("%w: %q: %w", ErrPattern, s, err)
	}
	p.name = canonicalName(p.typ, name)
	for _, glob := range []string{p.typ, p.name} {
		if _, err := path.Match(glob, ""); err != nil {
			return p, fmt.Errorf("%w: %q: %w", ErrPattern, s, err)
		}
	}
	if strings.ContainsAny(p.version, "<>=!") {
		p.ranges, err = parseRange(p.version)
		if err != nil {
			return p, fmt.Errorf("%w: %q: %w", ErrPattern, s, err)
		}
		p.version = ""
	} else if p.version != "" {
		if _, err := path.Match(p.version, ""); err != nil {
			return p, fmt.Errorf("%w: %q: %w", ErrPattern, s, err)
		}
	}
	return p, nil
}

func parseRange(s string) ([]comparator, error) {
	var out []comparator
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		var c comparator
		for _, op := range []string{"<=", ">=", "!=", "<", ">", "="} {
			if v, ok := strings.CutPrefix(f, op); ok {
				c = comparator{op: op, v: v}
				break
			}
		}
		if c.op == "" || c.v == "" {
			return nil, fmt.Errorf("bad comparator %q (want <, <=, >, >=, = or != followed by a version)", f)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("empty version range")
	}
	return out, nil
}

// Match reports whether the package URL matches. ecosystem (an OSV
// ecosystem name such as "npm" or "Debian:12") selects the version ordering
// for ranges; a version that cannot be ordered matches no range.
func (p Pattern) Match(purl, ecosystem string) bool {
	// Qualifiers and subpath ("?type=jar") never make another package;
	// names compare folded per the type, Go module paths case-sensitively.
	typ, name, version, ok := splitPURL(purl)
	if !ok {
		return false
	}
	if _, err := packageurl.FromString(purl); err != nil {
		return false
	}
	if ok, _ := path.Match(p.typ, typ); !ok {
		return false
	}
	if ok, _ := path.Match(p.name, canonicalName(typ, name)); !ok {
		return false
	}
	u := packageurl.PackageURL{Type: typ}
	if u.Type == packageurl.TypeGolang {
		version = strings.TrimPrefix(version, "v")
	}
	switch {
	case len(p.ranges) > 0:
		return inRange(version, ecosystem, p.ranges, u.Type)
	case p.version != "":
		pv := p.version
		if u.Type == packageurl.TypeGolang {
			pv = strings.TrimPrefix(pv, "v")
		}
		ok, _ := path.Match(pv, version)
		return ok
	}
	return true
}

func inRange(version, ecosystem string, cs []comparator, purlType string) bool {
	if version == "" {
		return false
	}
	v, err := semantic.Parse(version, ecosystem)
	if err != nil {
		return false
	}
	for _, c := range cs {
		bound := c.v
		if purlType == packageurl.TypeGolang {
			bound = strings.TrimPrefix(bound, "v")
		}
		cmp, err := v.CompareStr(bound)
		if err != nil {
			return false
		}
		var ok bool
		switch c.op {
		case "<":
			ok = cmp < 0
		case "<=":
			ok = cmp <= 0
		case ">":
			ok = cmp > 0
		case ">=":
			ok = cmp >= 0
		case "=":
			ok = cmp == 0
		case "!=":
			ok = cmp != 0
		}
		if !ok {
			return false
		}
	}
	return true
}
