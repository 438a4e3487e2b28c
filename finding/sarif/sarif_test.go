package sarif_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hallmark-dev/hallmark/finding"
	"github.com/hallmark-dev/hallmark/finding/sarif"
	"github.com/hallmark-dev/hallmark/misconfig"
)

// schema compiles the official SARIF 2.1.0 schema from testdata.
func schema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "sarif-schema-2.1.0.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("sarif-schema-2.1.0.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validate(t *testing.T, s *jsonschema.Schema, data []byte) error {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return s.Validate(inst)
}

var tool = sarif.Tool{Name: "hallmark", Version: "0.1.0", InformationURI: "https://github.com/hallmark-dev/hallmark"}

func sample() []finding.Finding {
	return []finding.Finding{
		{RuleID: "HM-DF-004", Title: "Final stage runs as root", Severity: finding.SeverityHigh, Message: "no USER",
			Location: finding.Location{Path: "svc/Dockerfile", Line: 3}, Remediation: "add USER", Rationale: "root is bad",
			References: []string{"hadolint:DL3002"}},
		{RuleID: "HM-K8S-001", Title: "Privileged container", Severity: finding.SeverityCritical, Message: "privileged",
			Location: finding.Location{Path: "deploy/my app#1.yaml", Line: 12, Column: 9}},
		{RuleID: "HM-DF-004", Title: "Final stage runs as root", Severity: finding.SeverityHigh, Message: "USER root",
			Location: finding.Location{Path: "c:odd/Dockerfile", Line: 7}, Suppressed: true, SuppressedReason: "init drops privileges"},
		{RuleID: "CVE-2024-0001", Severity: finding.SeverityUnknown, Message: "in layer",
			Location: finding.Location{Path: "image.tar", Member: "layer.tar!usr/lib/libx.so"}},
		{RuleID: "HM-DF-010", Title: "unpinned", Severity: finding.SeverityLow, Message: "apt-get install curl",
			Location: finding.Location{Path: "Dockerfile"}},
	}
}

func TestBuildValidatesAgainstSchema(t *testing.T) {
	s := schema(t)
	for _, tc := range []struct {
		name     string
		findings []finding.Finding
	}{{"sample", sample()}, {"empty", nil}} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := sarif.Write(&buf, tool, tc.findings); err != nil {
				t.Fatal(err)
			}
			if err := validate(t, s, buf.Bytes()); err != nil {
				t.Fatalf("output does not validate against SARIF 2.1.0 schema: %v\n%s", err, buf.String())
			}
		})
	}
}

func TestSchemaRejectsBadLevel(t *testing.T) {
	// The validator must be able to fail: a log with an invalid level and no
	// tool name is rejected.
	s := schema(t)
	bad := `{"version":"2.1.0","runs":[{"tool":{"driver":{}},"results":[{"message":{"text":"x"},"level":"fatal"}]}]}`
	if err := validate(t, s, []byte(bad)); err == nil {
		t.Fatal("schema accepted an invalid SARIF log")
	}
}

func TestBuildContent(t *testing.T) {
	l, err := sarif.Build(tool, sample())
	if err != nil {
		t.Fatal(err)
	}
	run := l.Runs[0]
	var ids []string
	for _, r := range run.Tool.Driver.Rules {
		ids = append(ids, r.ID)
	}
	if diff := cmp.Diff([]string{"HM-DF-004", "HM-K8S-001", "CVE-2024-0001", "HM-DF-010"}, ids); diff != "" {
		t.Errorf("rules (-want +got):\n%s", diff)
	}
	type row struct {
		Rule, Level, URI string
		Line             int
		Suppressed       bool
	}
	var got []row
	for _, r := range run.Results {
		if run.Tool.Driver.Rules[r.RuleIndex].ID != r.RuleID {
			t.Errorf("result %s has ruleIndex %d pointing at %s", r.RuleID, r.RuleIndex, run.Tool.Driver.Rules[r.RuleIndex].ID)
		}
		rw := row{Rule: r.RuleID, Level: r.Level, URI: r.Locations[0].PhysicalLocation.ArtifactLocation.URI, Suppressed: len(r.Suppressions) > 0}
		if reg := r.Locations[0].PhysicalLocation.Region; reg != nil {
			rw.Line = reg.StartLine
		}
		got = append(got, rw)
	}
	want := []row{
		{"HM-DF-004", "error", "svc/Dockerfile", 3, false},
		{"HM-K8S-001", "error", "deploy/my%20app%231.yaml", 12, false},
		{"HM-DF-004", "error", "./c:odd/Dockerfile", 7, true},
		{"CVE-2024-0001", "warning", "image.tar", 0, false},
		{"HM-DF-010", "note", "Dockerfile", 0, false},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	fp0 := run.Results[0].PartialFingerprints[sarif.FingerprintKey]
	moved := sample()
	moved[0].Location.Line = 40
	l2, err := sarif.Build(tool, moved)
	if err != nil {
		t.Fatal(err)
	}
	if fp := l2.Runs[0].Results[0].PartialFingerprints[sarif.FingerprintKey]; fp == "" || fp != fp0 {
		t.Errorf("fingerprint changed when only the line moved: %q vs %q", fp0, fp)
	}
	if run.Results[1].PartialFingerprints[sarif.FingerprintKey] == fp0 {
		t.Error("different findings share a fingerprint")
	}
	if j := run.Results[2].Suppressions[0].Justification; j != "init drops privileges" {
		t.Errorf("justification = %q", j)
	}
	if tags := run.Tool.Driver.Rules[0].Properties.Tags; !strings.Contains(strings.Join(tags, " "), "hadolint:DL3002") {
		t.Errorf("anchor missing from rule tags: %v", tags)
	}
}

func TestBuildRequiresToolName(t *testing.T) {
	if _, err := sarif.Build(sarif.Tool{}, nil); err == nil {
		t.Fatal("Build accepted an empty tool name")
	}
}

// TestCorpusSARIFValidates renders the misconfig corpus scan, the largest
// real output available, and validates it.
func TestCorpusSARIFValidates(t *testing.T) {
	fs, _ := misconfig.Scan(t.Context(), filepath.Join("..", "..", "misconfig", "testdata", "corpus"), misconfig.Config{})
	if len(fs) == 0 {
		t.Fatal("corpus scan found nothing")
	}
	var buf bytes.Buffer
	if err := sarif.Write(&buf, tool, fs); err != nil {
		t.Fatal(err)
	}
	if err := validate(t, schema(t), buf.Bytes()); err != nil {
		t.Fatalf("corpus SARIF does not validate: %v", err)
	}
	var l sarif.Log
	if err := json.Unmarshal(buf.Bytes(), &l); err != nil {
		t.Fatal(err)
	}
	if len(l.Runs[0].Results) != len(fs) {
		t.Errorf("%d results for %d findings", len(l.Runs[0].Results), len(fs))
	}
}
