package sbom

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestReadWhatDocumentWrites: the readers of signed SBOMs (the gate's and
// the dashboard's) see every component Document writes, by name, version
// and purl, with the creation time and the tool.
func TestReadWhatDocumentWrites(t *testing.T) {
	for name, inv := range scanFixtures(t) {
		for f, read := range map[Format]func([]byte) (*Contents, error){CycloneDX: ReadCycloneDX, SPDX: ReadSPDX} {
			t.Run(name+"/"+string(f), func(t *testing.T) {
				doc, err := Document(inv, f, DocumentInfo{Created: fixedTime})
				if err != nil {
					t.Fatal(err)
				}
				got, err := read(doc)
				if err != nil {
					t.Fatal(err)
				}
				if !got.Created.Equal(fixedTime) || got.Tool == "" || got.Version == "" {
					t.Errorf("document: created %v, tool %q, version %q", got.Created, got.Tool, got.Version)
				}
				var purls []string
				for _, p := range got.Packages {
					purls = append(purls, p.PURL)
				}
				for _, c := range inv.Components {
					if c.PURL != "" && !slices.Contains(purls, c.PURL) {
						t.Errorf("component %s is not read back (have %v)", c.PURL, purls)
					}
				}
			})
		}
	}
}

func TestReadLicensesAndStrictKeys(t *testing.T) {
	cdx := `{"specVersion":"1.6","metadata":{"timestamp":"2026-01-01T00:00:00Z","tools":{"components":[{"name":"t","version":"1"}]}},"components":[` +
		`{"name":"a","licenses":[{"expression":"MIT OR Apache-2.0"},{"license":{"id":"BSD-3-Clause"}},{"license":{"name":"Custom"}}]}]}`
	doc, err := ReadCycloneDX([]byte(cdx))
	if err != nil {
		t.Fatal(err)
	}
	want := []License{{Expression: "MIT OR Apache-2.0"}, {ID: "BSD-3-Clause"}, {Name: "Custom"}}
	if !slices.Equal(doc.Packages[0].Licenses, want) || doc.Tool != "t 1" {
		t.Errorf("CycloneDX licences %+v, tool %q", doc.Packages[0].Licenses, doc.Tool)
	}
	spdx := `{"spdxVersion":"SPDX-2.3","creationInfo":{"created":"2026-01-01T00:00:00Z","creators":["Tool: hallmark-1"]},"packages":[` +
		`{"name":"a","licenseConcluded":"NOASSERTION","licenseDeclared":"MIT","externalRefs":[{"referenceType":"purl","referenceLocator":"pkg:npm/a@1"}]}]}`
	sd, err := ReadSPDX([]byte(spdx))
	if err != nil {
		t.Fatal(err)
	}
	if p := sd.Packages[0]; !slices.Equal(p.Licenses, []License{{Expression: "MIT"}}) || p.PURL != "pkg:npm/a@1" || sd.Version != "2.3" {
		t.Errorf("SPDX package %+v, version %q", p, sd.Version)
	}
	for _, bad := range []string{strings.Replace(cdx, `"components":[{"name":"a"`, `"Components":[{"name":"a"`, 1), `{"components":[{"name":5}]}`, `{"packages":[],"packages":[]}`} {
		_, err1 := ReadCycloneDX([]byte(bad))
		_, err2 := ReadSPDX([]byte(bad))
		if !errors.Is(err1, ErrMalformed) && !errors.Is(err2, ErrMalformed) {
			t.Errorf("%s: %v, %v; want ErrMalformed", bad, err1, err2)
		}
	}
}

func FuzzReadSBOM(f *testing.F) {
	f.Add([]byte(`{"specVersion":"1.6","metadata":{"tools":[{"name":"x"}]},"components":[{"licenses":[{}]}]}`))
	f.Add([]byte(`{"spdxVersion":"SPDX-2.3","packages":[{"externalRefs":[{}]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, read := range []func([]byte) (*Contents, error){ReadCycloneDX, ReadSPDX} {
			if _, err := read(b); err != nil && !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
		}
	})
}
