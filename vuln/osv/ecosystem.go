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
