package vuln

import (
	"fmt"
	"strings"
	"time"

	"github.com/hallmark-dev/hallmark/finding"
)

// Finding is one vulnerability in one package: the records that describe
// it (merged through their aliases), what is installed, what fixes it, how
// severe it is, and whether a VEX statement waived it.
type Finding struct {
	// ID is the primary identifier: the smallest of IDs.
	ID string `json:"id"`
	// IDs are the IDs of every merged record.
	IDs []string `json:"ids"`
	// Aliases are the other names of the vulnerability (CVE, GHSA, ...),
	// without the IDs.
	Aliases []string `json:"aliases,omitempty"`
	// Summary is a one-line description from the first record that has one.
	Summary string `json:"summary,omitempty"`
	// Package is the affected inventory entry; InstalledVersion repeats
	// its version.
	Package          Package `json:"package"`
	InstalledVersion string  `json:"installedVersion"`
	// FixedVersions are the versions that fix it, in ascending order when
	// the ecosystem's ordering allows; empty when no fix is published.
	FixedVersions []string `json:"fixedVersions,omitempty"`
	// Rating is the highest severity among the merged records.
	Rating Rating `json:"rating"`
	// References are advisory URLs.
	References []string `json:"references,omitempty"`
	// Suppressed is set when a VEX statement waived the finding.
	Suppressed *Suppression `json:"suppressed,omitempty"`
}

// Suppression records which VEX statement waived a finding.
type Suppression struct {
	// Document is the VEX document @id; Source is where it was read from.
	Document string `json:"document"`
	Source   string `json:"source,omitempty"`
	Author   string `json:"author,omitempty"`
	// Vulnerability is the name the statement used.
	Vulnerability string `json:"vulnerability"`
	// Status is not_affected or fixed.
	Status string `json:"status"`
	// Justification and ImpactStatement explain a not_affected status.
	Justification   string    `json:"justification,omitempty"`
	ImpactStatement string    `json:"impactStatement,omitempty"`
	Timestamp       time.Time `json:"timestamp,omitzero"`
}

func (s *Suppression) reason() string {
	why := s.Justification
	if why == "" {
		why = s.ImpactStatement
	}
	r := fmt.Sprintf("VEX %s: %s", s.Document, s.Status)
	if why != "" {
		r += " (" + why + ")"
	}
	if s.Author != "" {
		r += " by " + s.Author
	}
	return r
}

// Finding converts f to the result shape shared by Hallmark's scanners.
// The location path is the package URL (or ecosystem/name when there is
// none): an inventory finding has no file position.
func (f Finding) Finding() finding.Finding {
	loc := f.Package.PURL
	if loc == "" {
		loc = f.Package.Ecosystem + "/" + f.Package.Name + "@" + f.Package.Version
	}
	msg := fmt.Sprintf("%s %s is affected by %s", f.Package.Name, f.InstalledVersion, f.ID)
	if len(f.Aliases) > 0 {
		msg += " (" + strings.Join(f.Aliases, ", ") + ")"
	}
	rem := "no fixed version is published; remove the package or assess and record a VEX statement"
	if len(f.FixedVersions) > 0 {
		rem = "upgrade " + f.Package.Name + " to " + strings.Join(f.FixedVersions, " or ")
	}
	out := finding.Finding{
		RuleID:      f.ID,
		Title:       f.Summary,
		Severity:    f.Rating.Severity,
		Message:     msg,
		Location:    finding.Location{Path: loc},
		Remediation: rem,
		References:  append(append([]string{}, f.Aliases...), f.References...),
	}
	if out.Title == "" {
		out.Title = f.ID
	}
	if f.Rating.Vector != "" {
		out.Evidence = f.Rating.Vector
	}
	if f.Suppressed != nil {
		out.Suppressed = true
		out.SuppressedReason = f.Suppressed.reason()
	}
	return out
}
