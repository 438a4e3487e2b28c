package osv

import (
	"regexp"
	"strings"
)

// BaseEcosystem returns the ecosystem without its ":suffix" (release or
// distribution version), e.g. "Debian:12" -> "Debian".
func BaseEcosystem(ecosystem string) string {
	base, _, _ := strings.Cut(ecosystem, ":")
	return base
}

// Release returns the release an ecosystem names, in the form osv.dev
// matches on: the part after the base ecosystem ("Debian:12" -> "12"), and
// for Ubuntu without the ":Pro" and ":LTS" variants, so that a package of
// "Ubuntu:22.04" (os-release VERSION_ID, as osv-scalibr and osv-scanner
// name it) meets Canonical's "Ubuntu:22.04:LTS" and "Ubuntu:Pro:22.04:LTS"
// entries, as osv.dev's remove_variants makes them meet. It returns ""
// when the ecosystem names no release.
func Release(ecosystem string) string {
	base, rel, ok := strings.Cut(ecosystem, ":")
	if !ok {
		return ""
	}
	if base == "Ubuntu" {
		rel = ":" + rel
		rel = strings.ReplaceAll(rel, ":Pro", "")
		rel = strings.ReplaceAll(rel, ":LTS", "")
		rel = strings.TrimPrefix(rel, ":")
	}
	return rel
}

var pypiSeparators = regexp.MustCompile(`[-_.]+`)

// NormalizeName returns the form of a package name used to look records up,
// so that names spelled differently by an inventory and an advisory still
// meet: PyPI names are normalised as in PEP 503, other ecosystems compare
// names exactly.
func NormalizeName(ecosystem, name string) string {
	switch BaseEcosystem(ecosystem) {
	case "PyPI":
		return pypiSeparators.ReplaceAllString(strings.ToLower(name), "-")
	}
	return name
}
