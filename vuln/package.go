package vuln

import (
	"strings"

	"github.com/package-url/packageurl-go"
)

// Package is one entry of the inventory to scan.
type Package struct {
	// Ecosystem is an OSV ecosystem name ("Go", "npm", "PyPI", "crates.io",
	// "Maven", "RubyGems", "Debian:12", "Alpine:v3.20", ...). If empty, it
	// is derived from PURL.
	Ecosystem string `json:"ecosystem"`
	// Name is the package name as the ecosystem spells it (Go module path,
	// "group:artifact" for Maven, source package for Debian).
	Name string `json:"name"`
	// Version is the installed version ("v1.2.3" or "1.2.3" for Go).
	Version string `json:"version"`
	// PURL is the package URL, used to apply VEX statements.
	PURL string `json:"purl,omitempty"`
	// Commit is the VCS commit the package was built from, if known; it
	// is what GIT ranges are evaluated against.
	Commit string `json:"commit,omitempty"`
}

// purlEcosystems maps purl types to OSV ecosystems.
var purlEcosystems = map[string]string{
	"golang": "Go", "npm": "npm", "pypi": "PyPI", "cargo": "crates.io", "maven": "Maven",
	"gem": "RubyGems", "nuget": "NuGet", "composer": "Packagist", "hex": "Hex", "pub": "Pub",
	"swift": "SwiftURL", "cran": "CRAN", "hackage": "Hackage",
}

// normalized fills Ecosystem and Name from PURL when they are empty.
func (p Package) normalized() Package {
	if (p.Ecosystem != "" && p.Name != "") || p.PURL == "" {
		return p
	}
	u, err := packageurl.FromString(p.PURL)
	if err != nil {
		return p
	}
	if p.Ecosystem == "" {
		switch u.Type {
		case "deb":
			if strings.EqualFold(u.Namespace, "ubuntu") {
				p.Ecosystem = "Ubuntu"
			} else {
				p.Ecosystem = "Debian"
			}
		case "apk":
			p.Ecosystem = "Alpine"
		default:
			p.Ecosystem = purlEcosystems[u.Type]
		}
	}
	if p.Name == "" {
		switch {
		case u.Type == "maven":
			p.Name = u.Namespace + ":" + u.Name
		case u.Namespace != "" && (u.Type == "golang" || u.Type == "npm" || u.Type == "composer"):
			p.Name = u.Namespace + "/" + u.Name
		default:
			p.Name = u.Name
		}
	}
	if p.Version == "" {
		p.Version = u.Version
	}
	return p
}

// key identifies a package in results.
func (p Package) key() string { return p.Ecosystem + "\x00" + p.Name + "\x00" + p.Version }
