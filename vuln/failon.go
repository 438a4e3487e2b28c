package vuln

import (
	"fmt"

	"github.com/hallmark-dev/hallmark/finding"
)

// ThresholdError reports findings at or above a fail-on threshold.
type ThresholdError struct {
	// Threshold is the severity findings were compared with.
	Threshold finding.Severity
	// Count is how many findings not suppressed by VEX reached it.
	Count int
	// Unknown is how many of them have an unknown severity (counted
	// because FailOn was asked to count them).
	Unknown int
}

func (e *ThresholdError) Error() string {
	noun := "vulnerabilities"
	if e.Count == 1 {
		noun = "vulnerability"
	}
	msg := fmt.Sprintf("%d %s at or above %s", e.Count, noun, e.Threshold)
	if e.Unknown > 0 {
		msg += fmt.Sprintf(" (%d of unknown severity, counted)", e.Unknown)
	}
	return msg
}

// FailOn returns a *ThresholdError when a finding not suppressed by VEX is
// at or above threshold, nil otherwise. countUnknown decides whether a
// finding of unknown severity (no record and no alias rates it) counts: a
// vulnerability nobody rated is not known to be below the threshold, so
// `hallmark scan --fail-on` counts them unless told otherwise.
func (r *Report) FailOn(threshold finding.Severity, countUnknown bool) error {
	e := &ThresholdError{Threshold: threshold}
	for _, f := range r.Active() {
		if f.Rating.Severity.AtLeast(threshold, countUnknown) {
			e.Count++
			if f.Rating.Severity == finding.SeverityUnknown {
				e.Unknown++
			}
		}
	}
	if e.Count == 0 {
		return nil
	}
	return e
}
