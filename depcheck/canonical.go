package depcheck

import (
	"net/url"
	"regexp"
	"strings"

	"github.com/github/go-spdx/v2/spdxexp"
	"github.com/package-url/packageurl-go"
)

// caseInsensitiveTypes are the purl types whose namespace and name the purl
// specification (PURL-TYPES) declares not case sensitive, or whose registry
// treats names case-insensitively (nuget, pub). Types not listed keep their
// case: Go module paths, Maven coordinates, gems and crates are
// case-sensitive.
var caseInsensitiveTypes = map[string]bool{
	"alpm": true, "apk": true, "bitbucket": true, "composer": true, "deb": true, "github": true,
	"hex": true, "npm": true, "nuget": true, "oci": true, "pub": true, "pypi": true,
}

// canonicalName folds "namespace/name" (unescaped) for comparison under the
// rules of purl type typ: lower case for case-insensitive types, and PyPI's
// PEP 503 normalisation (runs of '-', '_' and '.' are one '-').
func canonicalName(typ, name string) string {
	typ = strings.ToLower(typ)
	if caseInsensitiveTypes[typ] {
		name = strings.ToLower(name)
	}
	if typ == packageurl.TypePyPi {
		name = pypiSeparators.ReplaceAllString(name, "-")
	}
	return name
}

// splitPURL splits "pkg:TYPE/NAMESPACE/NAME@VERSION?QUALIFIERS#SUBPATH" into
// its type, unescaped "namespace/name" and unescaped version, dropping
// qualifiers and subpath. It does not use packageurl-go's parser, which
// lower-cases Go module paths.
func splitPURL(s string) (typ, name, version string, ok bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), "pkg:")
	if !ok {
		return "", "", "", false
	}
	rest = strings.TrimLeft(rest, "/")
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		rest = rest[:i]
	}
	typ, nameVer, ok := strings.Cut(rest, "/")
	if !ok || typ == "" || nameVer == "" {
		return "", "", "", false
	}
	// The version starts at the last '@' of the last segment, so that an
	// npm scope ("@acme/x") is not mistaken for one.
	lastSlash := strings.LastIndexByte(nameVer, '/')
	if at := strings.LastIndexByte(nameVer, '@'); at > lastSlash {
		nameVer, version = nameVer[:at], nameVer[at+1:]
		if v, err := url.PathUnescape(version); err == nil {
			version = v
		}
	}
	name, err := url.PathUnescape(strings.Trim(nameVer, "/"))
	if err != nil {
		return "", "", "", false
	}
	return strings.ToLower(typ), name, version, true
}

// CanonicalPURL returns the form of a package URL (or of a glob pattern
// over package URLs, such as "pkg:pypi/CTX@*" or "pkg:npm/@acme/*") that deny
// and allow lists are matched in: "pkg:TYPE/NAMESPACE/NAME[@VERSION]" with
// the type in lower case, namespace, name and version unescaped, namespace
// and name folded per the type's rules (lower case for the types the purl
// specification declares case-insensitive, PEP 503 for PyPI; Go module
// paths keep their case), and qualifiers and subpath dropped: they select a
// file or build of the same package ("?type=jar"), never another package.
// A string that is not a purl is returned unchanged, with ok false.
func CanonicalPURL(purl string) (canonical string, ok bool) {
	typ, name, version, ok := splitPURL(purl)
	if !ok {
		return purl, false
	}
	out := "pkg:" + typ + "/" + canonicalName(typ, name)
	if version != "" {
		out += "@" + version
	}
	return out, true
}

// CanonicalPURLPattern is CanonicalPURL for a deny or allow pattern: a
// pattern that is not a purl is returned unchanged.
func CanonicalPURLPattern(pattern string) string {
	c, _ := CanonicalPURL(pattern)
	return c
}

// gnuDeprecated are the deprecated GNU licence IDs that SPDX replaced by an
// "-only" form (and, with a "+", an "-or-later" form).
var gnuDeprecated = map[string]bool{
	"GPL-1.0": true, "GPL-2.0": true, "GPL-3.0": true, "LGPL-2.0": true, "LGPL-2.1": true, "LGPL-3.0": true,
	"AGPL-1.0": true, "AGPL-3.0": true, "GFDL-1.1": true, "GFDL-1.2": true, "GFDL-1.3": true,
}

// CanonicalLicenseID returns the SPDX licence identifier id in the case the
// SPDX licence list spells it (identifiers are matched case-insensitively,
// SPDX spec Annex D), with deprecated GNU identifiers replaced by their
// current equivalents ("GPL-2.0" -> "GPL-2.0-only", "GPL-2.0+" ->
// "GPL-2.0-or-later"). Other words (LicenseRef-..., operators, unknown
// names) are returned unchanged.
func CanonicalLicenseID(id string) string {
	plus := strings.HasSuffix(id, "+")
	base := strings.TrimSuffix(id, "+")
	canon := ""
	if ok, c := spdxexp.ActiveLicense(base); ok {
		canon = c
	} else if ok, c := spdxexp.ActiveLicense(id); ok {
		return c
	} else {
		for g := range gnuDeprecated {
			if strings.EqualFold(g, base) {
				canon = g
			}
		}
	}
	switch {
	case canon == "":
		return id
	case gnuDeprecated[canon] && plus:
		return canon + "-or-later"
	case gnuDeprecated[canon]:
		return canon + "-only"
	case plus:
		return canon + "+"
	}
	return canon
}

var licenseWord = regexp.MustCompile(`[^\s()]+`)

// CanonicalLicenseExpression applies CanonicalLicenseID to every identifier
// of an SPDX licence expression, leaving operators and parentheses as they
// are: "mit OR agpl-3.0-only" -> "MIT OR AGPL-3.0-only".
func CanonicalLicenseExpression(expr string) string {
	return licenseWord.ReplaceAllStringFunc(expr, func(w string) string {
		switch strings.ToUpper(w) {
		case "AND", "OR", "WITH":
			return w
		}
		return CanonicalLicenseID(w)
	})
}
