package finding

import (
	"errors"
	"fmt"
	"strings"
)

// Severity ranks how bad a finding is. The zero value is SeverityUnknown,
// which is deliberately not "low": a scanner that cannot tell must say so and
// policy must decide what unknown means.
type Severity int

// Severities in increasing order of badness. SeverityUnknown sorts below
// SeverityInfo for ordering, but AtLeast treats it specially.
const (
	SeverityUnknown Severity = iota
	SeverityInfo
	SeverityLow
	SeverityMedium
	SeverityHigh
	SeverityCritical
)

// ErrBadSeverity is returned when a severity name is not one of the known names.
var ErrBadSeverity = errors.New("unknown severity name")

var severityNames = [...]string{"unknown", "info", "low", "medium", "high", "critical"}

// String returns the lower-case name of the severity.
func (s Severity) String() string {
	if s < 0 || int(s) >= len(severityNames) {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity parses a severity name, case-insensitively. "moderate" is
// accepted as an alias of medium (GitHub advisories use it).
func ParseSeverity(name string) (Severity, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "moderate" {
		return SeverityMedium, nil
	}
	for i, v := range severityNames {
		if v == n {
			return Severity(i), nil
		}
	}
	return SeverityUnknown, fmt.Errorf("%w: %q (want one of %s)", ErrBadSeverity, name, strings.Join(severityNames[:], ", "))
}

// AtLeast reports whether s is at or above threshold. An unknown severity is
// at least any threshold when failUnknown is true, and at least none
// otherwise: callers must choose.
func (s Severity) AtLeast(threshold Severity, failUnknown bool) bool {
	if s == SeverityUnknown {
		return failUnknown
	}
	return s >= threshold
}

// MarshalText encodes the severity as its name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes a severity name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}
