package compliance_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/compliance"
)

// TestEmbeddedMapping: the shipped mapping loads, names the three
// frameworks, cites a document section for every control, and refers only
// to real evidence kinds and built-in rule groups (Parse checks both).
func TestEmbeddedMapping(t *testing.T) {
	m, err := compliance.Load()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"slsa": "SLSA", "ssdf": "SP 800-218", "cra": "2024/2847"}
	for _, f := range m.Frameworks {
		cite, ok := want[f.ID]
		if !ok {
			t.Errorf("unexpected framework %s", f.ID)
			continue
		}
		delete(want, f.ID)
		if len(f.Controls) == 0 {
			t.Errorf("%s has no controls", f.ID)
		}
		for _, c := range f.Controls {
			if !strings.Contains(c.Citation, cite) {
				t.Errorf("%s %s: citation %q does not name the document (%s)", f.ID, c.ID, c.Citation, cite)
			}
		}
	}
	if len(want) > 0 {
		t.Errorf("frameworks missing: %v", want)
	}
	if len(m.Digest) != 64 {
		t.Errorf("digest %q", m.Digest)
	}
}

// TestParseRefusesBadMappings: each mistake an editor of controls.yaml
// could make is refused with ErrMapping.
func TestParseRefusesBadMappings(t *testing.T) {
	good := `version: 1
frameworks:
  - id: x
    name: X
    document: Doc
    controls:
      - {id: A, title: T, citation: "Doc 1", coverage: full, evidence: [sbom], rules: [sbom]}
`
	if _, err := compliance.Parse([]byte(good)); err != nil {
		t.Fatalf("good mapping: %v", err)
	}
	for name, bad := range map[string]string{
		"wrong version":         strings.Replace(good, "version: 1", "version: 2", 1),
		"unknown field":         strings.Replace(good, "coverage: full", "coverage: full, colour: red", 1),
		"unknown evidence":      strings.Replace(good, "evidence: [sbom]", "evidence: [sboms]", 1),
		"unknown rule group":    strings.Replace(good, "rules: [sbom]", "rules: [sbom_rule]", 1),
		"no citation":           strings.Replace(good, `citation: "Doc 1"`, `citation: ""`, 1),
		"full without evidence": strings.Replace(good, "evidence: [sbom]", "evidence: []", 1),
		"partial without gap":   strings.Replace(good, "coverage: full", "coverage: partial", 1),
		"none with evidence":    strings.Replace(good, "coverage: full", "coverage: none, notCovered: x", 1),
		"bad coverage":          strings.Replace(good, "coverage: full", "coverage: most", 1),
		"bad level":             strings.Replace(good, "coverage: full", "coverage: full, slsaBuildLevel: 4", 1),
		"bad applicability":     strings.Replace(good, "coverage: full", "coverage: full, applicability: sometimes", 1),
		"duplicate control":     good + "      - {id: A, title: T, citation: C, coverage: full, evidence: [sbom]}\n",
	} {
		if _, err := compliance.Parse([]byte(bad)); !errors.Is(err, compliance.ErrMapping) {
			t.Errorf("%s: err = %v, want ErrMapping", name, err)
		}
	}
}
