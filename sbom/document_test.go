package sbom

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// compileSchema loads a schema and the schemas it references from
// testdata/schema, keyed by their $id, so that no network is needed.
func compileSchema(t *testing.T, main string, files ...string) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	var mainID string
	for _, f := range append([]string{main}, files...) {
		fh, err := os.Open(filepath.Join("testdata", "schema", f))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(fh)
		fh.Close()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		id, _ := doc.(map[string]any)["$id"].(string)
		if id == "" {
			t.Fatalf("%s has no $id", f)
		}
		if f == main {
			mainID = id
		}
		if err := c.AddResource(id, doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	s, err := c.Compile(mainID)
	if err != nil {
		t.Fatalf("compile %s: %v", main, err)
	}
	return s
}

func validate(t *testing.T, s *jsonschema.Schema, doc []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(inst); err != nil {
		t.Errorf("document does not validate: %v", err)
	}
}

var fixedTime = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func scanFixtures(t *testing.T) map[string]*Inventory {
	t.Helper()
	out := map[string]*Inventory{}
	for _, p := range []string{"testdata/tree", "testdata/rootfs-debian", "testdata/rootfs-alpine", buildGoBinary(t)} {
		inv, err := Scan(t.Context(), p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = inv
	}
	return out
}

func TestDocumentsValidateAgainstOfficialSchemas(t *testing.T) {
	cdxSchema := compileSchema(t, "bom-1.6.schema.json", "spdx.schema.json", "jsf-0.82.schema.json")
	spdxSchema := compileSchema(t, "spdx-schema-2.3.json")
	for name, inv := range scanFixtures(t) {
		for _, f := range []struct {
			format Format
			schema *jsonschema.Schema
		}{{CycloneDX, cdxSchema}, {SPDX, spdxSchema}} {
			t.Run(name+"/"+string(f.format), func(t *testing.T) {
				doc, err := Document(inv, f.format, DocumentInfo{Created: fixedTime, ToolVersion: "0.1.0"})
				if err != nil {
					t.Fatal(err)
				}
				validate(t, f.schema, doc)
			})
		}
	}
}

// The schema must reject what it should: a check that validation is real.
func TestSchemaRejectsBrokenDocuments(t *testing.T) {
	cdxSchema := compileSchema(t, "bom-1.6.schema.json", "spdx.schema.json", "jsf-0.82.schema.json")
	spdxSchema := compileSchema(t, "spdx-schema-2.3.json")
	for _, tc := range []struct {
		name   string
		schema *jsonschema.Schema
		doc    string
	}{
		{"cyclonedx bad hash alg", cdxSchema, `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"type":"library","name":"x","hashes":[{"alg":"CRC32","content":"00"}]}]}`},
		{"cyclonedx bad licence id", cdxSchema, `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"type":"library","name":"x","licenses":[{"license":{"id":"Not-A-Licence"}}]}]}`},
		{"spdx missing creationInfo", spdxSchema, `{"spdxVersion":"SPDX-2.3","dataLicense":"CC0-1.0","SPDXID":"SPDXRef-DOCUMENT","name":"x","documentNamespace":"https://x"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(tc.doc)))
			if err != nil {
				t.Fatal(err)
			}
			if tc.schema.Validate(inst) == nil {
				t.Error("schema accepted a broken document")
			}
		})
	}
}

// TestNTIAMinimumElements reads the documents back and checks each NTIA
// minimum element: supplier (where known), component name, version, unique
// identifier (purl), dependency relationship, SBOM author and timestamp.
func TestNTIAMinimumElements(t *testing.T) {
	invs := scanFixtures(t)
	inv := invs["rootfs-debian"]
	info := DocumentInfo{Created: fixedTime, Author: "Example Corp Release Engineering", ToolVersion: "0.1.0"}

	t.Run("cyclonedx", func(t *testing.T) {
		doc, err := Document(inv, CycloneDX, info)
		if err != nil {
			t.Fatal(err)
		}
		var bom struct {
			Metadata struct {
				Timestamp string `json:"timestamp"`
				Authors   []struct {
					Name string `json:"name"`
				} `json:"authors"`
				Component struct {
					BOMRef string `json:"bom-ref"`
				} `json:"component"`
			} `json:"metadata"`
			Components []struct {
				BOMRef   string `json:"bom-ref"`
				Name     string `json:"name"`
				Version  string `json:"version"`
				PURL     string `json:"purl"`
				Supplier struct {
					Name string `json:"name"`
				} `json:"supplier"`
			} `json:"components"`
			Dependencies []struct {
				Ref       string   `json:"ref"`
				DependsOn []string `json:"dependsOn"`
			} `json:"dependencies"`
		}
		if err := json.Unmarshal(doc, &bom); err != nil {
			t.Fatal(err)
		}
		if bom.Metadata.Timestamp != "2026-11-25T12:00:00Z" {
			t.Errorf("timestamp = %q", bom.Metadata.Timestamp)
		}
		if len(bom.Metadata.Authors) != 1 || bom.Metadata.Authors[0].Name != info.Author {
			t.Errorf("authors = %+v", bom.Metadata.Authors)
		}
		if len(bom.Components) != len(inv.Components) {
			t.Fatalf("%d components, want %d", len(bom.Components), len(inv.Components))
		}
		var refs []string
		for i, c := range bom.Components {
			want := inv.Components[i]
			if c.Name != want.Name || c.Version != want.Version || c.PURL != want.PURL || c.BOMRef != want.PURL || c.Supplier.Name != want.Supplier || c.Supplier.Name == "" {
				t.Errorf("component %d = %+v, want %s %s %s supplier %q", i, c, want.Name, want.Version, want.PURL, want.Supplier)
			}
			refs = append(refs, c.BOMRef)
		}
		if len(bom.Dependencies) != 1 || bom.Dependencies[0].Ref != bom.Metadata.Component.BOMRef {
			t.Fatalf("dependencies = %+v", bom.Dependencies)
		}
		if diff := cmp.Diff(refs, bom.Dependencies[0].DependsOn); diff != "" {
			t.Errorf("root dependsOn (-want +got):\n%s", diff)
		}
	})

	t.Run("spdx", func(t *testing.T) {
		doc, err := Document(inv, SPDX, info)
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			CreationInfo struct {
				Created  string   `json:"created"`
				Creators []string `json:"creators"`
			} `json:"creationInfo"`
			Packages []struct {
				ID           string `json:"SPDXID"`
				Name         string `json:"name"`
				Version      string `json:"versionInfo"`
				Supplier     string `json:"supplier"`
				ExternalRefs []struct {
					Type    string `json:"referenceType"`
					Locator string `json:"referenceLocator"`
				} `json:"externalRefs"`
			} `json:"packages"`
			Relationships []struct {
				A    string `json:"spdxElementId"`
				B    string `json:"relatedSpdxElement"`
				Type string `json:"relationshipType"`
			} `json:"relationships"`
		}
		if err := json.Unmarshal(doc, &d); err != nil {
			t.Fatal(err)
		}
		if d.CreationInfo.Created != "2026-11-25T12:00:00Z" {
			t.Errorf("created = %q", d.CreationInfo.Created)
		}
		if !slices.Contains(d.CreationInfo.Creators, "Organization: "+info.Author) || !slices.Contains(d.CreationInfo.Creators, "Tool: hallmark-0.1.0") {
			t.Errorf("creators = %v", d.CreationInfo.Creators)
		}
		if len(d.Packages) != len(inv.Components)+1 {
			t.Fatalf("%d packages, want %d + subject", len(d.Packages), len(inv.Components))
		}
		root := d.Packages[0].ID
		dependsOn := map[string]bool{}
		for _, r := range d.Relationships {
			if r.A == root && r.Type == "DEPENDS_ON" {
				dependsOn[r.B] = true
			}
		}
		for i, p := range d.Packages[1:] {
			want := inv.Components[i]
			if p.Name != want.Name || p.Version != want.Version || p.Supplier != "Organization: "+want.Supplier {
				t.Errorf("package %d = %+v, want %s %s supplier %q", i, p, want.Name, want.Version, want.Supplier)
			}
			if len(p.ExternalRefs) != 1 || p.ExternalRefs[0].Type != "purl" || p.ExternalRefs[0].Locator != want.PURL {
				t.Errorf("package %s externalRefs = %+v, want purl %s", p.Name, p.ExternalRefs, want.PURL)
			}
			if !dependsOn[p.ID] {
				t.Errorf("no DEPENDS_ON relationship from the subject to %s", p.ID)
			}
		}
	})
}

func TestDocumentReproducible(t *testing.T) {
	inv, err := Scan(t.Context(), "testdata/tree")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []Format{CycloneDX, SPDX} {
		a, err := Document(inv, f, DocumentInfo{Created: fixedTime})
		if err != nil {
			t.Fatal(err)
		}
		inv2, err := Scan(t.Context(), "testdata/tree")
		if err != nil {
			t.Fatal(err)
		}
		b, err := Document(inv2, f, DocumentInfo{Created: fixedTime})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two scans of the same tree at the same time gave different documents", f)
		}
		c, err := Document(inv, f, DocumentInfo{Created: fixedTime.Add(time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(a, c) {
			t.Errorf("%s: the timestamp is not in the document", f)
		}
	}
	if _, err := Document(inv, CycloneDX, DocumentInfo{}); !errors.Is(err, ErrEncode) {
		t.Errorf("zero Created: err = %v, want ErrEncode", err)
	}
	if _, err := Document(inv, "xml", DocumentInfo{Created: fixedTime}); !errors.Is(err, ErrFormat) {
		t.Errorf("unknown format: err = %v, want ErrFormat", err)
	}
}

func TestHashesInDocuments(t *testing.T) {
	inv, err := Scan(t.Context(), "testdata/tree/rust")
	if err != nil {
		t.Fatal(err)
	}
	const itoa = "d75a2a4b1b190afb6f5425f10f6a8f959d2ea0b9c2b1d79553551850539e4674"
	for _, f := range []Format{CycloneDX, SPDX} {
		doc, err := Document(inv, f, DocumentInfo{Created: fixedTime})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(doc, []byte(itoa)) {
			t.Errorf("%s document lacks the Cargo.lock checksum of itoa", f)
		}
	}
}

func TestDependencyGraphInDocuments(t *testing.T) {
	inv, err := Scan(t.Context(), "testdata/tree/rust")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := Document(inv, CycloneDX, DocumentInfo{Created: fixedTime})
	if err != nil {
		t.Fatal(err)
	}
	var bom struct {
		Dependencies []struct {
			Ref       string   `json:"ref"`
			DependsOn []string `json:"dependsOn"`
		} `json:"dependencies"`
	}
	if err := json.Unmarshal(doc, &bom); err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, d := range bom.Dependencies {
		if d.Ref != "hallmark:subject" {
			got[d.Ref] = d.DependsOn
		}
	}
	want := map[string][]string{
		"pkg:cargo/fixture-cli@0.1.0": {"pkg:cargo/itoa@1.0.14", "pkg:cargo/memchr@2.7.4", "pkg:cargo/serde@1.0.228"},
		"pkg:cargo/serde@1.0.228":     {"pkg:cargo/serde_core@1.0.228"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("cyclonedx dependencies (-want +got):\n%s", diff)
	}

	doc, err = Document(inv, SPDX, DocumentInfo{Created: fixedTime})
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Relationships []struct {
			A    string `json:"spdxElementId"`
			B    string `json:"relatedSpdxElement"`
			Type string `json:"relationshipType"`
		} `json:"relationships"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	var edges []string
	for _, r := range d.Relationships {
		if r.A != "SPDXRef-Subject" && r.A != "SPDXRef-DOCUMENT" {
			edges = append(edges, r.A+" "+r.Type+" "+r.B)
		}
	}
	wantEdges := []string{
		"SPDXRef-Package-1-fixture-cli DEPENDS_ON SPDXRef-Package-2-itoa",
		"SPDXRef-Package-1-fixture-cli DEPENDS_ON SPDXRef-Package-3-memchr",
		"SPDXRef-Package-1-fixture-cli DEPENDS_ON SPDXRef-Package-4-serde",
		"SPDXRef-Package-4-serde DEPENDS_ON SPDXRef-Package-5-serde-core",
	}
	if diff := cmp.Diff(wantEdges, edges); diff != "" {
		t.Errorf("spdx relationships (-want +got):\n%s", diff)
	}
}

func TestParseFormat(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Format
		pred string
	}{{"cyclonedx", CycloneDX, "https://cyclonedx.org/bom"}, {"SPDX", SPDX, "https://spdx.dev/Document"}} {
		got, err := ParseFormat(tc.in)
		if err != nil || got != tc.want || got.PredicateType() != tc.pred {
			t.Errorf("ParseFormat(%q) = %q, %v (predicate %q)", tc.in, got, err, got.PredicateType())
		}
	}
	if _, err := ParseFormat("swid"); !errors.Is(err, ErrFormat) {
		t.Errorf("ParseFormat(swid) err = %v", err)
	}
}
