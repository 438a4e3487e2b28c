package sbom

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/package-url/packageurl-go"

	"github.com/hallmark-dev/hallmark/oci/ocitest"
)

// TestImageTopLevelComponent checks the image's own component in both
// document formats: its digest as the version and its oci purl (purl
// spec: name = last path component of the repository, version = digest,
// repository_url = the repository), and that the documents still
// validate against the official schemas.
func TestImageTopLevelComponent(t *testing.T) {
	status, err := os.ReadFile(filepath.Join("testdata", "image", "status.base"))
	if err != nil {
		t.Fatal(err)
	}
	osRelease, err := os.ReadFile(filepath.Join("testdata", "image", "os-release"))
	if err != nil {
		t.Fatal(err)
	}
	img := ocitest.Image(t, v1.Config{}, ocitest.Layer{CreatedBy: "ADD rootfs /", Files: map[string][]byte{
		"etc/os-release": osRelease, "var/lib/dpkg/status": status,
	}})
	h, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	inv, err := ScanImage(t.Context(), img, ImageSubject{Name: "registry.example:5000/team/app", Digest: h})
	if err != nil {
		t.Fatal(err)
	}
	checkPURL := func(where, got string) {
		t.Helper()
		p, err := packageurl.FromString(got)
		if err != nil {
			t.Fatalf("%s: purl %q: %v", where, got, err)
		}
		if p.Type != "oci" || p.Namespace != "" || p.Name != "app" || p.Version != h.String() || p.Qualifiers.Map()["repository_url"] != "registry.example:5000/team/app" {
			t.Errorf("%s: purl %q, want pkg:oci/app@%s?repository_url=registry.example:5000/team/app", where, got, h)
		}
	}
	if inv.Subject.Version != h.String() {
		t.Errorf("subject version %q, want %s", inv.Subject.Version, h)
	}
	checkPURL("inventory", inv.Subject.PURL)

	info := DocumentInfo{Created: fixedTime}
	cdxDoc, err := Document(inv, CycloneDX, info)
	if err != nil {
		t.Fatal(err)
	}
	validate(t, compileSchema(t, "bom-1.6.schema.json", "spdx.schema.json", "jsf-0.82.schema.json"), cdxDoc)
	var cdx struct {
		Metadata struct {
			Component struct{ Type, Name, Version, PURL string }
		}
	}
	if err := json.Unmarshal(cdxDoc, &cdx); err != nil {
		t.Fatal(err)
	}
	c := cdx.Metadata.Component
	if c.Type != "container" || c.Version != h.String() {
		t.Errorf("CycloneDX metadata.component %+v, want a container versioned %s", c, h)
	}
	checkPURL("CycloneDX metadata.component", c.PURL)

	spdxDoc, err := Document(inv, SPDX, info)
	if err != nil {
		t.Fatal(err)
	}
	validate(t, compileSchema(t, "spdx-schema-2.3.json"), spdxDoc)
	var spdx struct {
		DocumentDescribes []string
		Packages          []struct {
			SPDXID, VersionInfo, PrimaryPackagePurpose string
			ExternalRefs                               []struct{ ReferenceType, ReferenceLocator string }
		}
		Relationships []struct{ SpdxElementID, RelationshipType, RelatedSpdxElement string }
	}
	if err := json.Unmarshal(spdxDoc, &spdx); err != nil {
		t.Fatal(err)
	}
	var described string
	for _, r := range spdx.Relationships {
		if r.SpdxElementID == "SPDXRef-DOCUMENT" && r.RelationshipType == "DESCRIBES" {
			described = r.RelatedSpdxElement
		}
	}
	found := false
	for _, p := range spdx.Packages {
		if p.SPDXID != described {
			continue
		}
		found = true
		if p.VersionInfo != h.String() || p.PrimaryPackagePurpose != "CONTAINER" || len(p.ExternalRefs) != 1 || p.ExternalRefs[0].ReferenceType != "purl" {
			t.Errorf("SPDX described package %+v, want version %s, purpose CONTAINER and one purl", p, h)
			continue
		}
		checkPURL("SPDX described package", p.ExternalRefs[0].ReferenceLocator)
	}
	if !found {
		t.Errorf("no SPDX package described by the document (%q)", described)
	}

	// A layout's directory name is no repository: no repository_url.
	if got := OCIPURL("layout", h); got != "pkg:oci/layout@"+h.String() {
		t.Errorf("OCIPURL(layout) = %q, want pkg:oci/layout@%s", got, h)
	}
	// The subject survives a CycloneDX round trip.
	back, err := Decode(bytes.NewReader(cdxDoc))
	if err != nil {
		t.Fatal(err)
	}
	if back.Subject.PURL != inv.Subject.PURL || back.Subject.Version != inv.Subject.Version {
		t.Errorf("decoded subject %+v, want purl %s version %s", back.Subject, inv.Subject.PURL, inv.Subject.Version)
	}
}
