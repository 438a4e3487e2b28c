package finding

import (
	"errors"
	"testing"
)

func TestParseSeverity(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Severity
	}{{"critical", SeverityCritical}, {"HIGH", SeverityHigh}, {" moderate ", SeverityMedium}, {"low", SeverityLow}, {"info", SeverityInfo}, {"unknown", SeverityUnknown}} {
		got, err := ParseSeverity(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseSeverity(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	if _, err := ParseSeverity("severe"); !errors.Is(err, ErrBadSeverity) {
		t.Errorf("ParseSeverity(severe) error = %v, want ErrBadSeverity", err)
	}
}

func TestAtLeastUnknownIsExplicit(t *testing.T) {
	if SeverityUnknown.AtLeast(SeverityLow, false) {
		t.Error("unknown counted as at least low without failUnknown")
	}
	if !SeverityUnknown.AtLeast(SeverityCritical, true) {
		t.Error("unknown not counted with failUnknown")
	}
	if !SeverityHigh.AtLeast(SeverityHigh, false) || SeverityMedium.AtLeast(SeverityHigh, false) {
		t.Error("ordering broken")
	}
}
