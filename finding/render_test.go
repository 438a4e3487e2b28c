package finding

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestExceeds(t *testing.T) {
	high := Finding{RuleID: "A", Severity: SeverityHigh}
	low := Finding{RuleID: "B", Severity: SeverityLow}
	waived := Finding{RuleID: "C", Severity: SeverityCritical, Suppressed: true}
	unknown := Finding{RuleID: "D", Severity: SeverityUnknown}
	for _, tc := range []struct {
		name      string
		findings  []Finding
		threshold Severity
		want      bool
	}{
		{"none", nil, SeverityLow, false},
		{"high over medium", []Finding{low, high}, SeverityMedium, true},
		{"high at high", []Finding{high}, SeverityHigh, true},
		{"low under medium", []Finding{low}, SeverityMedium, false},
		{"suppressed critical ignored", []Finding{waived, low}, SeverityHigh, false},
		{"unknown fails closed", []Finding{unknown}, SeverityCritical, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Exceeds(tc.findings, tc.threshold); got != tc.want {
				t.Errorf("Exceeds = %v, want %v", got, tc.want)
			}
		})
	}
}

func sampleFindings() []Finding {
	return []Finding{
		{RuleID: "HM-DF-004", Severity: SeverityHigh, Message: "final stage\nruns as root", Location: Location{Path: "Dockerfile", Line: 3}},
		{RuleID: "HM-K8S-020", Severity: SeverityLow, Message: "token mounted", Location: Location{Path: "k8s/a.yaml", Line: 7, Column: 2}},
		{RuleID: "HM-DF-012", Severity: SeverityMedium, Message: "sudo", Location: Location{Path: "Dockerfile", Line: 9}, Suppressed: true, SuppressedReason: "legacy"},
	}
}

func TestWriteTable(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteTable(&buf, sampleFindings()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	var got [][]string
	for _, l := range lines {
		got = append(got, strings.Fields(l))
	}
	want := [][]string{
		{"SEVERITY", "RULE", "LOCATION", "MESSAGE"},
		{"HIGH", "HM-DF-004", "Dockerfile:3", "final", "stage", "runs", "as", "root"},
		{"LOW", "HM-K8S-020", "k8s/a.yaml:7:2", "token", "mounted"},
		{"suppressed", "HM-DF-012", "Dockerfile:9", "sudo", "[legacy]"},
		{"2", "findings", "(1", "high,", "1", "low),", "1", "suppressed"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("table (-want +got):\n%s\n%s", diff, buf.String())
	}
}

func TestWriteJSONRoundTrip(t *testing.T) {
	in := sampleFindings()
	var buf bytes.Buffer
	if err := WriteJSON(&buf, in); err != nil {
		t.Fatal(err)
	}
	var r Report
	if err := json.Unmarshal(buf.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(in, r.Findings); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	want := Counts{BySeverity: map[Severity]int{SeverityHigh: 1, SeverityLow: 1}, Total: 2, Suppressed: 1}
	if diff := cmp.Diff(want, r.Counts); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	if !strings.Contains(buf.String(), `"high": 1`) {
		t.Errorf("severity keys are not names:\n%s", buf.String())
	}
	var empty bytes.Buffer
	if err := WriteJSON(&empty, nil); err != nil || !strings.Contains(empty.String(), `"findings": []`) {
		t.Errorf("empty report = %q, %v", empty.String(), err)
	}
}

// TestWriteTableEscapesTerminalControls: a scanned file's name and the
// message quoting it are untrusted (#20.10); the table escapes ESC, C1 and
// bidi controls instead of printing them.
func TestWriteTableEscapesTerminalControls(t *testing.T) {
	var buf bytes.Buffer
	f := Finding{RuleID: "HM-SEC-001", Severity: SeverityHigh, Message: "secret in \x1b[2Jx\u202e", Location: Location{Path: "a\x1b]0;pwned\x07.env", Line: 1}}
	if err := WriteTable(&buf, []Finding{f}); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(buf.String(), "\x1b\x07\u202e") {
		t.Fatalf("raw controls in the table: %q", buf.String())
	}
	if !strings.Contains(buf.String(), `a\x1b]0;pwned\x07.env:1`) {
		t.Errorf("escaped path missing: %q", buf.String())
	}
}
