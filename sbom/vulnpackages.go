package sbom

import (
	"strings"

	"github.com/hallmark-dev/hallmark/vuln"
)

// VulnPackages turns an inventory into what vulnerability matching takes
// (`hallmark scan --vulns PATH`, and the package index recheck asks). OS
// packages are matched under their source package, as Debian and Alpine
// advisories are keyed; the binary package's purl is kept so that VEX
// statements still apply. Components without a comparable version (a Go
// main module at "(devel)") are left out.
func VulnPackages(inv *Inventory) []vuln.Package {
	out := make([]vuln.Package, 0, len(inv.Components))
	for _, c := range inv.Components {
		name, version := c.Name, c.Version
		if c.Source != "" && isOSEcosystem(c.Ecosystem) {
			name = c.Source
			if c.SourceVersion != "" {
				version = c.SourceVersion
			}
		}
		if version == "" || version == "(devel)" || GoMainModule(c) {
			continue
		}
		out = append(out, vuln.Package{Ecosystem: c.Ecosystem, Name: name, Version: version, PURL: c.PURL})
	}
	return out
}

// GoMainModule reports a Go module listed without a version, as syft lists
// the main module of a source tree ("UNKNOWN"): it is the code being
// scanned, not a dependency, and govulncheck does not match it either.
func GoMainModule(c Component) bool {
	return strings.HasPrefix(c.Ecosystem, "Go") && c.Name != "stdlib" && strings.EqualFold(c.Version, "UNKNOWN")
}

func isOSEcosystem(eco string) bool {
	base, _, _ := strings.Cut(eco, ":")
	switch base {
	case "Debian", "Ubuntu", "Alpine":
		return true
	}
	return false
}
