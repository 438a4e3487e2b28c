package finding

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/hallmark-dev/hallmark/internal/textsafe"
)

// Exceeds reports whether any finding that is not suppressed is at or above
// threshold, which is what `--fail-on SEVERITY` needs. A finding of unknown
// severity counts as exceeding: a gate fails closed when a scanner could not
// rate what it found.
func Exceeds(findings []Finding, threshold Severity) bool {
	for _, f := range findings {
		if !f.Suppressed && f.Severity.AtLeast(threshold, true) {
			return true
		}
	}
	return false
}

// AtLeast returns the findings that are not suppressed and are at or above
// threshold (unknown severity counts, as in Exceeds): the ones a --fail-on
// threshold fails on.
func AtLeast(findings []Finding, threshold Severity) []Finding {
	var out []Finding
	for _, f := range findings {
		if !f.Suppressed && f.Severity.AtLeast(threshold, true) {
			out = append(out, f)
		}
	}
	return out
}

// Counts tallies findings that are not suppressed by severity, and the
// suppressed ones separately.
type Counts struct {
	BySeverity map[Severity]int `json:"bySeverity"`
	Total      int              `json:"total"`
	Suppressed int              `json:"suppressed"`
}

// Count tallies findings.
func Count(findings []Finding) Counts {
	c := Counts{BySeverity: map[Severity]int{}}
	for _, f := range findings {
		if f.Suppressed {
			c.Suppressed++
			continue
		}
		c.BySeverity[f.Severity]++
		c.Total++
	}
	return c
}

// String summarises the counts, worst severity first, e.g.
// "3 findings (1 critical, 2 low), 1 suppressed".
func (c Counts) String() string {
	var parts []string
	for s := SeverityCritical; s >= SeverityUnknown; s-- {
		if n := c.BySeverity[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, s))
		}
	}
	noun := "findings"
	if c.Total == 1 {
		noun = "finding"
	}
	out := fmt.Sprintf("%d %s", c.Total, noun)
	if len(parts) > 0 {
		out += " (" + strings.Join(parts, ", ") + ")"
	}
	if c.Suppressed > 0 {
		out += fmt.Sprintf(", %d suppressed", c.Suppressed)
	}
	return out
}

// WriteTable writes findings as an aligned text table for terminals, one
// row per finding in the given order, followed by a summary line. Suppressed
// findings are listed with their reason.
func WriteTable(w io.Writer, findings []Finding) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEVERITY\tRULE\tLOCATION\tMESSAGE")
	for _, f := range findings {
		sev := strings.ToUpper(f.Severity.String())
		msg := oneLine(f.Message)
		if f.Suppressed {
			sev = "suppressed"
			msg += " [" + oneLine(f.SuppressedReason) + "]"
		}
		// Paths and messages come from scanned trees and images: escape
		// terminal controls (textsafe) so a file name cannot drive the screen.
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", sev, textsafe.Escape(f.RuleID), textsafe.Escape(locationString(f.Location)), textsafe.Escape(msg))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("finding: write table: %w", err)
	}
	if _, err := fmt.Fprintln(w, Count(findings).String()); err != nil {
		return fmt.Errorf("finding: write table: %w", err)
	}
	return nil
}

// Report is the JSON document WriteJSON produces.
type Report struct {
	Findings []Finding `json:"findings"`
	Counts   Counts    `json:"counts"`
}

// WriteJSON writes findings as an indented JSON Report.
func WriteJSON(w io.Writer, findings []Finding) error {
	if findings == nil {
		findings = []Finding{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(Report{Findings: findings, Counts: Count(findings)}); err != nil {
		return fmt.Errorf("finding: write JSON: %w", err)
	}
	return nil
}

func locationString(l Location) string {
	s := l.Path
	if l.Member != "" {
		s += "!" + l.Member
	}
	if l.Line > 0 {
		s += fmt.Sprintf(":%d", l.Line)
		if l.Column > 0 {
			s += fmt.Sprintf(":%d", l.Column)
		}
	}
	return s
}

// oneLine keeps table rows on one line whatever the message holds.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
