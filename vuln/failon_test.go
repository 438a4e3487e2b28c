package vuln_test

import (
	"errors"
	"testing"

	"github.com/hallmark-dev/hallmark/finding"
	"github.com/hallmark-dev/hallmark/vuln"
)

func TestFailOn(t *testing.T) {
	rated := func(s finding.Severity) vuln.Finding {
		return vuln.Finding{ID: "GHSA-" + s.String(), Rating: vuln.Rating{Severity: s}}
	}
	suppressed := rated(finding.SeverityCritical)
	suppressed.Suppressed = &vuln.Suppression{Status: "not_affected"}
	rep := &vuln.Report{Findings: []vuln.Finding{rated(finding.SeverityHigh), rated(finding.SeverityLow), rated(finding.SeverityUnknown), suppressed}}
	for _, tc := range []struct {
		threshold      finding.Severity
		countUnknown   bool
		count, unknown int
		msg            string
	}{
		{finding.SeverityHigh, false, 1, 0, "1 vulnerability at or above high"},
		{finding.SeverityHigh, true, 2, 1, "2 vulnerabilities at or above high (1 of unknown severity, counted)"},
		{finding.SeverityLow, false, 2, 0, "2 vulnerabilities at or above low"},
		{finding.SeverityCritical, false, 0, 0, ""},
	} {
		err := rep.FailOn(tc.threshold, tc.countUnknown)
		if tc.count == 0 {
			if err != nil {
				t.Errorf("FailOn(%s, %v) = %v, want nil (the critical one is suppressed)", tc.threshold, tc.countUnknown, err)
			}
			continue
		}
		te, ok := errors.AsType[*vuln.ThresholdError](err)
		if !ok || te.Count != tc.count || te.Unknown != tc.unknown || err.Error() != tc.msg {
			t.Errorf("FailOn(%s, %v) = %v, want %d (%d unknown): %q", tc.threshold, tc.countUnknown, err, tc.count, tc.unknown, tc.msg)
		}
	}
}
