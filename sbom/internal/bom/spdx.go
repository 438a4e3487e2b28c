package bom

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx/v2/common"
	spdx "github.com/spdx/tools-golang/spdx/v2/v2_3"
)

const noAssertion = "NOASSERTION"

var spdxAlgs = map[HashAlgorithm]common.ChecksumAlgorithm{
	SHA1: common.SHA1, SHA256: common.SHA256, SHA512: common.SHA512,
}

var unsafeIDChars = regexp.MustCompile(`[^A-Za-z0-9.-]+`)

// spdxID makes an element ID from an index and a readable name; the index
// keeps IDs unique, the name keeps them legible.
func spdxID(i int, name string) common.ElementID {
	return common.ElementID("Package-" + strconv.Itoa(i) + "-" + unsafeIDChars.ReplaceAllString(name, "-"))
}

func spdxChecksums(hs []Hash) []common.Checksum {
	var out []common.Checksum
	for _, h := range hs {
		if a, ok := spdxAlgs[h.Algorithm]; ok {
			out = append(out, common.Checksum{Algorithm: a, Value: h.Value})
		}
	}
	return out
}

func spdxJSON(inv *Inventory, info DocumentInfo) ([]byte, error) {
	id := contentID(inv, info)
	doc := &spdx.Document{
		SPDXVersion:       spdx.Version,
		DataLicense:       spdx.DataLicense,
		SPDXIdentifier:    "DOCUMENT",
		DocumentName:      rootName(inv),
		DocumentNamespace: "https://hallmark.dev/spdx/" + unsafeIDChars.ReplaceAllString(rootName(inv), "-") + "-" + id.String(),
		CreationInfo: &spdx.CreationInfo{
			Created: info.created(),
			Creators: []common.Creator{
				{CreatorType: "Tool", Creator: "hallmark-" + info.toolVersion()},
				{CreatorType: "Organization", Creator: info.author()},
			},
		},
	}
	rootID := common.ElementID("Subject")
	root := &spdx.Package{
		PackageName:             rootName(inv),
		PackageSPDXIdentifier:   rootID,
		PackageDownloadLocation: noAssertion,
		PackageSupplier:         &common.Supplier{Supplier: noAssertion},
		PackageChecksums:        spdxChecksums(inv.Subject.Hashes),
		PrimaryPackagePurpose:   "APPLICATION",
	}
	switch inv.Subject.Kind {
	case "file":
		root.PrimaryPackagePurpose = "FILE"
	case "image":
		root.PrimaryPackagePurpose = "CONTAINER"
	}
	root.PackageVersion = inv.Subject.Version
	if inv.Subject.PURL != "" {
		root.PackageExternalReferences = []*spdx.PackageExternalReference{{
			Category: common.CategoryPackageManager, RefType: common.TypePackageManagerPURL, Locator: inv.Subject.PURL,
		}}
	}
	doc.Packages = append(doc.Packages, root)
	doc.Relationships = append(doc.Relationships, &spdx.Relationship{
		RefA:         common.MakeDocElementID("", "DOCUMENT"),
		RefB:         common.MakeDocElementID("", string(rootID)),
		Relationship: common.TypeRelationshipDescribe,
	})
	ids := make(map[string]common.ElementID, len(inv.Components))
	for i, c := range inv.Components {
		ids[c.PURL] = spdxID(i+1, c.Name)
	}
	for _, c := range inv.Components {
		pid := ids[c.PURL]
		p := &spdx.Package{
			PackageName:             c.Name,
			PackageSPDXIdentifier:   pid,
			PackageVersion:          c.Version,
			PackageDownloadLocation: noAssertion,
			PackageSupplier:         &common.Supplier{Supplier: noAssertion},
			PackageChecksums:        spdxChecksums(c.Hashes),
			PackageLicenseConcluded: noAssertion,
			PackageLicenseDeclared:  noAssertion,
			PackageCopyrightText:    noAssertion,
			PrimaryPackagePurpose:   "LIBRARY",
			PackageExternalReferences: []*spdx.PackageExternalReference{{
				Category: common.CategoryPackageManager, RefType: common.TypePackageManagerPURL, Locator: c.PURL,
			}},
		}
		if c.Supplier != "" {
			p.PackageSupplier = &common.Supplier{Supplier: c.Supplier, SupplierType: "Organization"}
		}
		if expr, ok := spdxExpression(c.Licenses); ok {
			p.PackageLicenseDeclared = expr
		} else if len(c.Licenses) > 0 {
			p.PackageLicenseComments = fmt.Sprintf("declared licence not a valid SPDX expression: %q", c.Licenses)
		}
		if len(c.Locations) > 0 {
			p.PackageSourceInfo = "found in " + joinComma(c.Locations)
		}
		doc.Packages = append(doc.Packages, p)
		doc.Relationships = append(doc.Relationships, &spdx.Relationship{
			RefA:         common.MakeDocElementID("", string(rootID)),
			RefB:         common.MakeDocElementID("", string(pid)),
			Relationship: common.TypeRelationshipDependsOn,
		})
		for _, d := range c.DependsOn {
			if did, ok := ids[d]; ok {
				doc.Relationships = append(doc.Relationships, &spdx.Relationship{
					RefA:         common.MakeDocElementID("", string(pid)),
					RefB:         common.MakeDocElementID("", string(did)),
					Relationship: common.TypeRelationshipDependsOn,
				})
			}
		}
	}
	var b bytes.Buffer
	if err := spdxjson.Write(doc, &b, spdxjson.Indent("  "), spdxjson.EscapeHTML(false)); err != nil {
		return nil, fmt.Errorf("%w: spdx: %w", ErrEncode, err)
	}
	return b.Bytes(), nil
}

func joinComma(ss []string) string {
	var b bytes.Buffer
	for i, s := range ss {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(s)
	}
	return b.String()
}
