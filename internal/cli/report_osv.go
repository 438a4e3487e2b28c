package cli

import (
	"strings"
	"time"

	"github.com/package-url/packageurl-go"

	"github.com/hallmark-dev/hallmark/compliance"
	"github.com/hallmark-dev/hallmark/vuln/osvdb"
)

// disclosureDates reads the OSV `published` date of each vulnerability in
// the report from the local vulnerability database (hallmark db update),
// looking records up by the finding's package URL. Vulnerabilities whose
// record is not there get none; without a database the map is empty. These
// dates are not signed evidence: the report says where they come from.
func disclosureDates(dbDir string, r *compliance.Report) map[string]time.Time {
	out := map[string]time.Time{}
	db, err := osvdb.Open(dbDir)
	if err != nil {
		return out
	}
	defer db.Close()
	for _, a := range r.Artifacts {
		for _, v := range a.Vulnerabilities {
			if _, done := out[v.ID]; done {
				continue
			}
			eco, name, ok := osvPackage(v.Package)
			if !ok {
				continue
			}
			entries, err := db.Lookup(eco, name)
			if err != nil {
				continue
			}
			for _, e := range entries {
				if (e.ID == v.ID || containsString(e.Aliases, v.ID)) && e.Published != nil {
					out[v.ID] = e.Published.UTC()
					break
				}
			}
		}
	}
	return out
}

// osvPackage turns a package URL into an OSV ecosystem and package name.
func osvPackage(purl string) (eco, name string, ok bool) {
	p, err := packageurl.FromString(purl)
	if err != nil {
		return "", "", false
	}
	switch p.Type {
	case "golang":
		return "Go", join(p.Namespace, p.Name, "/"), true
	case "npm":
		return "npm", join(p.Namespace, p.Name, "/"), true
	case "pypi":
		return "PyPI", p.Name, true
	case "cargo":
		return "crates.io", p.Name, true
	case "gem":
		return "RubyGems", p.Name, true
	case "maven":
		return "Maven", join(p.Namespace, p.Name, ":"), true
	case "deb":
		switch p.Namespace {
		case "debian":
			return "Debian", p.Name, true
		case "ubuntu":
			return "Ubuntu", p.Name, true
		}
	case "apk":
		if p.Namespace == "alpine" {
			return "Alpine", p.Name, true
		}
	}
	return "", "", false
}

func join(ns, name, sep string) string {
	if ns == "" {
		return name
	}
	return ns + sep + name
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
