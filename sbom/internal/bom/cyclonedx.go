package bom

import (
	"bytes"
	"fmt"
	"slices"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/github/go-spdx/v2/spdxexp"
)

const rootRef = "hallmark:subject"

func cdxHashes(hs []Hash) *[]cdx.Hash {
	if len(hs) == 0 {
		return nil
	}
	out := make([]cdx.Hash, 0, len(hs))
	for _, h := range hs {
		out = append(out, cdx.Hash{Algorithm: cdx.HashAlgorithm(h.Algorithm), Value: h.Value})
	}
	return &out
}

// cdxLicenses writes one SPDX expression when the declared licences parse
// as one, else each as a named licence (CycloneDX forbids mixing both).
func cdxLicenses(ls []string) *cdx.Licenses {
	if len(ls) == 0 {
		return nil
	}
	if expr, ok := spdxExpression(ls); ok {
		return &cdx.Licenses{{Expression: expr}}
	}
	out := make(cdx.Licenses, 0, len(ls))
	for _, l := range ls {
		out = append(out, cdx.LicenseChoice{License: &cdx.License{Name: l}})
	}
	return &out
}

// spdxExpression joins declared licences into one valid SPDX expression.
func spdxExpression(ls []string) (string, bool) {
	if len(ls) == 0 {
		return "", false
	}
	expr := ls[0]
	if len(ls) > 1 {
		var b bytes.Buffer
		for i, l := range ls {
			if i > 0 {
				b.WriteString(" AND ")
			}
			b.WriteString("(" + l + ")")
		}
		expr = b.String()
	}
	if ok, _ := spdxexp.ValidateLicenses([]string{expr}); !ok {
		return "", false
	}
	return expr, true
}

func cycloneDX(inv *Inventory, info DocumentInfo) ([]byte, error) {
	bom := cdx.NewBOM()
	bom.SerialNumber = "urn:uuid:" + contentID(inv, info).String()
	rootType := cdx.ComponentTypeApplication
	if inv.Subject.Kind == "file" {
		rootType = cdx.ComponentTypeFile
	}
	if inv.Subject.Kind == "image" {
		rootType = cdx.ComponentTypeContainer
	}
	bom.Metadata = &cdx.Metadata{
		Timestamp: info.created(),
		Authors:   &[]cdx.OrganizationalContact{{Name: info.author()}},
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{{
			Type: cdx.ComponentTypeApplication, Name: "hallmark", Version: info.toolVersion(),
		}}},
		Component: &cdx.Component{
			BOMRef: rootRef, Type: rootType, Name: rootName(inv), Hashes: cdxHashes(inv.Subject.Hashes),
			Version: inv.Subject.Version, PackageURL: inv.Subject.PURL,
		},
	}
	comps := make([]cdx.Component, 0, len(inv.Components))
	refs := make([]string, 0, len(inv.Components))
	for _, c := range inv.Components {
		cc := cdx.Component{
			BOMRef:     c.PURL,
			Type:       cdx.ComponentTypeLibrary,
			Name:       c.Name,
			Version:    c.Version,
			PackageURL: c.PURL,
			Hashes:     cdxHashes(c.Hashes),
			Licenses:   cdxLicenses(c.Licenses),
			Properties: &[]cdx.Property{{Name: "hallmark:ecosystem", Value: c.Ecosystem}},
		}
		if c.Layer != nil {
			*cc.Properties = append(*cc.Properties, cdx.Property{Name: layerProperty, Value: c.Layer.DiffID})
		}
		if c.Supplier != "" {
			cc.Supplier = &cdx.OrganizationalEntity{Name: c.Supplier}
		}
		if c.VersionSource != "" {
			*cc.Properties = append(*cc.Properties, cdx.Property{Name: versionSourceProperty, Value: c.VersionSource})
		}
		if len(c.Locations) > 0 {
			occ := make([]cdx.EvidenceOccurrence, 0, len(c.Locations))
			for _, l := range c.Locations {
				occ = append(occ, cdx.EvidenceOccurrence{Location: l})
			}
			cc.Evidence = &cdx.Evidence{Occurrences: &occ}
		}
		comps = append(comps, cc)
		refs = append(refs, c.PURL)
	}
	bom.Components = &comps
	deps := []cdx.Dependency{{Ref: rootRef, Dependencies: &refs}}
	for _, c := range inv.Components {
		if len(c.DependsOn) > 0 {
			on := slices.Clone(c.DependsOn)
			deps = append(deps, cdx.Dependency{Ref: c.PURL, Dependencies: &on})
		}
	}
	bom.Dependencies = &deps

	var b bytes.Buffer
	enc := cdx.NewBOMEncoder(&b, cdx.BOMFileFormatJSON)
	enc.SetPretty(true)
	enc.SetEscapeHTML(false)
	if err := enc.EncodeVersion(bom, cdx.SpecVersion1_6); err != nil {
		return nil, fmt.Errorf("%w: cyclonedx: %w", ErrEncode, err)
	}
	return b.Bytes(), nil
}
