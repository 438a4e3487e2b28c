package vuln

import (
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/hallmark-dev/hallmark/vuln/osv"
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

// withPURL fills PURL from Ecosystem, Name and Version when it is empty, so
// that VEX statements can name packages an inventory listed without purls.
func (p Package) withPURL() Package {
	if p.PURL != "" || p.Name == "" {
		return p
	}
	var typ, ns, name string
	switch osv.BaseEcosystem(p.Ecosystem) {
	case "Go":
		typ, name = "golang", p.Name
		if i := strings.LastIndex(p.Name, "/"); i >= 0 {
			ns, name = p.Name[:i], p.Name[i+1:]
		}
	case "npm":
		typ, name = "npm", p.Name
		if scope, n, ok := strings.Cut(p.Name, "/"); ok && strings.HasPrefix(scope, "@") {
			ns, name = scope, n
		}
	case "PyPI":
		typ, name = "pypi", osv.NormalizeName("PyPI", p.Name)
	case "crates.io":
		typ, name = "cargo", p.Name
	case "RubyGems":
		typ, name = "gem", p.Name
	case "Maven":
		g, a, ok := strings.Cut(p.Name, ":")
		if !ok {
			return p
		}
		typ, ns, name = "maven", g, a
	case "Debian":
		typ, ns, name = "deb", "debian", p.Name
	case "Ubuntu":
		typ, ns, name = "deb", "ubuntu", p.Name
	case "Alpine":
		typ, ns, name = "apk", "alpine", p.Name
	default:
		return p
	}
	p.PURL = packageurl.NewPackageURL(typ, ns, name, p.Version, nil, "").ToString()
	return p
}

// goVersion turns a Go toolchain version ("go1.22", "go1.22rc1") into the
// semantic version the Go vulnerability database uses for stdlib and
// toolchain ("1.22.0", "1.22.0-rc.1"); module versions pass through.
func goVersion(name, v string) string {
	if name != "stdlib" && name != "toolchain" {
		return v
	}
	v = strings.TrimPrefix(strings.TrimPrefix(v, "go"), "v")
	pre := ""
	for _, tag := range []string{"rc", "beta"} {
		if i := strings.Index(v, tag); i > 0 {
			v, pre = v[:i], "-"+tag+"."+v[i+len(tag):]
			break
		}
	}
	if strings.Count(v, ".") == 1 {
		v += ".0"
	}
	return v + pre
}

// key identifies a package in results.
func (p Package) key() string { return p.Ecosystem + "\x00" + p.Name + "\x00" + p.Version }
