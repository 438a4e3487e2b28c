package bom

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/package-url/packageurl-go"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx/v2/common"

	"github.com/hallmark-dev/hallmark/internal/limits"
)

// MaxDocumentSize bounds an SBOM document read by [Decode].
const MaxDocumentSize = 64 << 20

// versionSourceProperty records Component.VersionSource (where the Go
// standard library's version of a source tree came from).
const versionSourceProperty = "hallmark:versionSource"

// ecosystemProperty is the CycloneDX property in which Hallmark records a
// component's OSV ecosystem.
const ecosystemProperty = "hallmark:ecosystem"

// layerProperty is the CycloneDX property in which Hallmark records the
// diff ID of the image layer that introduced a component.
const layerProperty = "hallmark:layer"

// Decode reads a CycloneDX or SPDX 2.x JSON document (detected from its
// content) back into an inventory, so that an SBOM made elsewhere, or
// earlier, can be checked like a scan. Components without a purl are
// skipped: they cannot be matched to advisories or policy. The ecosystem
// comes from Hallmark's property when present, else from the purl.
func Decode(r io.Reader) (*Inventory, error) {
	data, err := limits.ReadAll(r, MaxDocumentSize, "sbom: SBOM document")
	if err != nil {
		return nil, err
	}
	var probe struct {
		BOMFormat   string `json:"bomFormat"`
		SPDXVersion string `json:"spdxVersion"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("%w: not a JSON SBOM: %w", ErrFormat, err)
	}
	switch {
	case probe.BOMFormat == "CycloneDX":
		return decodeCycloneDX(data)
	case strings.HasPrefix(probe.SPDXVersion, "SPDX-2."):
		return decodeSPDX(data)
	}
	return nil, fmt.Errorf("%w: neither CycloneDX (bomFormat) nor SPDX 2.x (spdxVersion) JSON", ErrFormat)
}

func decodeCycloneDX(data []byte) (*Inventory, error) {
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(bytes.NewReader(data), cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
		return nil, fmt.Errorf("%w: cyclonedx: %w", ErrFormat, err)
	}
	inv := &Inventory{}
	if m := bom.Metadata; m != nil && m.Component != nil {
		inv.Subject = Subject{Name: m.Component.Name, Kind: cdxSubjectKind(m.Component.Type), Hashes: fromCDXHashes(m.Component.Hashes)}
		if m.Component.Type == cdx.ComponentTypeContainer {
			inv.Subject.Version, inv.Subject.PURL = m.Component.Version, m.Component.PackageURL
		}
	}
	purlOf := map[string]string{} // bom-ref -> purl
	byPURL := map[string]*Component{}
	var order []string
	var walk func(cs *[]cdx.Component, depth int)
	walk = func(cs *[]cdx.Component, depth int) {
		if cs == nil || depth > 32 {
			return
		}
		for _, cc := range *cs {
			walk(cc.Components, depth+1)
			c, ok := componentFromPURL(cc.PackageURL, cc.Name, cc.Version, cdxProperty(cc.Properties, ecosystemProperty))
			if !ok {
				continue
			}
			purlOf[cc.BOMRef] = c.PURL
			c.VersionSource = cdxProperty(cc.Properties, versionSourceProperty)
			c.Hashes = fromCDXHashes(cc.Hashes)
			if l := cdxProperty(cc.Properties, layerProperty); l != "" {
				c.Layer = &Layer{Index: -1, DiffID: l}
			}
			c.Licenses = fromCDXLicenses(cc.Licenses)
			if cc.Supplier != nil {
				c.Supplier = cc.Supplier.Name
			}
			if cc.Evidence != nil && cc.Evidence.Occurrences != nil {
				for _, o := range *cc.Evidence.Occurrences {
					if o.Location != "" {
						c.Locations = append(c.Locations, o.Location)
					}
				}
			}
			if prev, dup := byPURL[c.PURL]; dup {
				Merge(prev, c)
				continue
			}
			byPURL[c.PURL] = &c
			order = append(order, c.PURL)
		}
	}
	walk(bom.Components, 0)
	if bom.Dependencies != nil {
		for _, d := range *bom.Dependencies {
			from, ok := byPURL[purlOf[d.Ref]]
			if !ok || d.Dependencies == nil {
				continue
			}
			for _, to := range *d.Dependencies {
				if p, ok := purlOf[to]; ok && p != from.PURL {
					from.DependsOn = append(from.DependsOn, p)
				}
			}
		}
	}
	for _, k := range order {
		Normalize(byPURL[k])
		inv.Components = append(inv.Components, *byPURL[k])
	}
	SortComponents(inv.Components)
	return inv, nil
}

func cdxSubjectKind(t cdx.ComponentType) string {
	if t == cdx.ComponentTypeFile {
		return "file"
	}
	return "directory"
}

func cdxProperty(ps *[]cdx.Property, name string) string {
	if ps == nil {
		return ""
	}
	for _, p := range *ps {
		if p.Name == name {
			return p.Value
		}
	}
	return ""
}

func fromCDXHashes(hs *[]cdx.Hash) []Hash {
	if hs == nil {
		return nil
	}
	var out []Hash
	for _, h := range *hs {
		switch a := HashAlgorithm(h.Algorithm); a {
		case SHA1, SHA256, SHA512:
			out = append(out, Hash{Algorithm: a, Value: strings.ToLower(h.Value)})
		}
	}
	return out
}

func fromCDXLicenses(ls *cdx.Licenses) []string {
	if ls == nil {
		return nil
	}
	var out []string
	for _, l := range *ls {
		switch {
		case l.Expression != "":
			out = append(out, l.Expression)
		case l.License != nil && l.License.ID != "":
			out = append(out, l.License.ID)
		case l.License != nil && l.License.Name != "":
			out = append(out, l.License.Name)
		}
	}
	return out
}

func decodeSPDX(data []byte) (*Inventory, error) {
	doc, err := spdxjson.Read(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: spdx: %w", ErrFormat, err)
	}
	inv := &Inventory{Subject: Subject{Name: doc.DocumentName, Kind: "directory"}}
	purlOf := map[common.ElementID]string{}
	byPURL := map[string]*Component{}
	var order []string
	for _, p := range doc.Packages {
		if p == nil {
			continue
		}
		var purl string
		for _, r := range p.PackageExternalReferences {
			if r != nil && r.RefType == common.TypePackageManagerPURL {
				purl = r.Locator
				break
			}
		}
		c, ok := componentFromPURL(purl, p.PackageName, p.PackageVersion, "")
		if !ok {
			continue
		}
		purlOf[p.PackageSPDXIdentifier] = c.PURL
		for _, cs := range p.PackageChecksums {
			for a, sa := range spdxAlgs {
				if cs.Algorithm == sa {
					c.Hashes = append(c.Hashes, Hash{Algorithm: a, Value: strings.ToLower(cs.Value)})
				}
			}
		}
		if l := p.PackageLicenseDeclared; l != "" && l != noAssertion && l != "NONE" {
			c.Licenses = []string{l}
		}
		if s := p.PackageSupplier; s != nil && s.Supplier != noAssertion {
			c.Supplier = s.Supplier
		}
		if prev, dup := byPURL[c.PURL]; dup {
			Merge(prev, c)
			continue
		}
		byPURL[c.PURL] = &c
		order = append(order, c.PURL)
	}
	for _, r := range doc.Relationships {
		if r == nil {
			continue
		}
		a, b := r.RefA.ElementRefID, r.RefB.ElementRefID
		switch r.Relationship {
		case common.TypeRelationshipDependsOn:
		case common.TypeRelationshipDependencyOf:
			a, b = b, a
		default:
			continue
		}
		from, ok := byPURL[purlOf[a]]
		if to, ok2 := purlOf[b]; ok && ok2 && to != from.PURL {
			from.DependsOn = append(from.DependsOn, to)
		}
	}
	for _, k := range order {
		Normalize(byPURL[k])
		inv.Components = append(inv.Components, *byPURL[k])
	}
	SortComponents(inv.Components)
	return inv, nil
}

// purlEcosystems maps purl types to OSV ecosystems; OS types need the
// distribution release and are handled in osEcosystem.
var purlEcosystems = map[string]string{
	packageurl.TypeGolang: "Go", packageurl.TypeNPM: "npm", packageurl.TypePyPi: "PyPI",
	packageurl.TypeCargo: "crates.io", packageurl.TypeMaven: "Maven", packageurl.TypeGem: "RubyGems",
	packageurl.TypeNuget: "NuGet", packageurl.TypeComposer: "Packagist", packageurl.TypeHex: "Hex",
	packageurl.TypePub: "Pub",
}

// debianReleases maps Debian codenames to release numbers, as OSV names
// Debian ecosystems ("Debian:12").
var debianReleases = map[string]string{
	"buster": "10", "bullseye": "11", "bookworm": "12", "trixie": "13", "forky": "14",
}

// componentFromPURL builds a component from a purl, using name and version
// only where the purl lacks them.
func componentFromPURL(purl, name, version, ecosystem string) (Component, bool) {
	if purl == "" {
		return Component{}, false
	}
	u, err := packageurl.FromString(purl)
	if err != nil || u.Name == "" {
		return Component{}, false
	}
	q := u.Qualifiers.Map()
	c := Component{PURL: u.String(), Name: u.Name, Version: u.Version, Ecosystem: ecosystem}
	switch u.Type {
	case packageurl.TypeGolang:
		c.Name = strings.TrimPrefix(u.Namespace+"/"+u.Name, "/")
		c.Version = strings.TrimPrefix(u.Version, "v")
	case packageurl.TypeNPM:
		if u.Namespace != "" {
			ns, _ := url.PathUnescape(u.Namespace)
			c.Name = ns + "/" + u.Name
		}
	case packageurl.TypeMaven:
		c.Name = u.Namespace + ":" + u.Name
	case packageurl.TypeDebian, packageurl.TypeApk:
		c.Source = q["source"]
		if u.Type == packageurl.TypeApk {
			c.Source = q["origin"]
		}
	}
	if c.Version == "" {
		c.Version = version
	}
	if c.Ecosystem == "" {
		c.Ecosystem = ecosystemOf(u, q)
	}
	if c.Ecosystem == "" {
		return Component{}, false
	}
	return c, true
}

func ecosystemOf(u packageurl.PackageURL, q map[string]string) string {
	if e, ok := purlEcosystems[u.Type]; ok {
		return e
	}
	distro := q["distro"]
	switch u.Type {
	case packageurl.TypeDebian:
		eco := "Debian"
		if u.Namespace == "ubuntu" {
			eco = "Ubuntu"
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(distro, "debian-"), "ubuntu-")
		if r, ok := debianReleases[rel]; ok {
			rel = r
		}
		if rel == "" {
			return eco
		}
		return eco + ":" + rel
	case packageurl.TypeApk:
		// distro is a release such as "3.19.1" or "alpine-3.19.1"; OSV
		// names the branch ("Alpine:v3.19").
		parts := strings.Split(strings.TrimPrefix(distro, "alpine-"), ".")
		if len(parts) >= 2 {
			return "Alpine:v" + parts[0] + "." + parts[1]
		}
		return "Alpine"
	}
	return ""
}
