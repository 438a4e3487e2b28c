package osv

import (
	"encoding/json"
	"time"
)

// RangeType is the kind of version ordering a Range uses.
type RangeType string

// Range types defined by the OSV schema.
const (
	RangeSemver    RangeType = "SEMVER"
	RangeEcosystem RangeType = "ECOSYSTEM"
	RangeGit       RangeType = "GIT"
)

// Entry is one OSV record.
type Entry struct {
	SchemaVersion    string          `json:"schema_version,omitempty"`
	ID               string          `json:"id"`
	Modified         time.Time       `json:"modified"`
	Published        *time.Time      `json:"published,omitempty"`
	Withdrawn        *time.Time      `json:"withdrawn,omitempty"`
	Aliases          []string        `json:"aliases,omitempty"`
	Related          []string        `json:"related,omitempty"`
	Upstream         []string        `json:"upstream,omitempty"`
	Summary          string          `json:"summary,omitempty"`
	Details          string          `json:"details,omitempty"`
	Severity         []Severity      `json:"severity,omitempty"`
	Affected         []Affected      `json:"affected,omitempty"`
	References       []Reference     `json:"references,omitempty"`
	DatabaseSpecific json.RawMessage `json:"database_specific,omitempty"`
}

// Severity is one severity score of a record or of an affected package.
type Severity struct {
	// Type is CVSS_V2, CVSS_V3, CVSS_V4 or Ubuntu.
	Type string `json:"type"`
	// Score is a CVSS vector string, or an ecosystem-specific rating.
	Score string `json:"score"`
}

// Affected names one affected package and the versions it is affected at.
type Affected struct {
	Package           Package         `json:"package"`
	Severity          []Severity      `json:"severity,omitempty"`
	Ranges            []Range         `json:"ranges,omitempty"`
	Versions          []string        `json:"versions,omitempty"`
	EcosystemSpecific json.RawMessage `json:"ecosystem_specific,omitempty"`
	DatabaseSpecific  json.RawMessage `json:"database_specific,omitempty"`
}

// Package identifies a package within an ecosystem.
type Package struct {
	// Ecosystem is an OSV ecosystem name, optionally with a ":suffix"
	// (e.g. "Debian:12", "Alpine:v3.18").
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
	Purl      string `json:"purl,omitempty"`
}

// Range is a set of events that together describe affected versions.
type Range struct {
	Type             RangeType       `json:"type"`
	Repo             string          `json:"repo,omitempty"`
	Events           []Event         `json:"events"`
	DatabaseSpecific json.RawMessage `json:"database_specific,omitempty"`
}

// Event is one point in a Range. Exactly one field is set.
type Event struct {
	Introduced   string `json:"introduced,omitempty"`
	Fixed        string `json:"fixed,omitempty"`
	LastAffected string `json:"last_affected,omitempty"`
	Limit        string `json:"limit,omitempty"`
}

// Reference is a link to more information.
type Reference struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

// WithdrawnAt reports whether the record is withdrawn at time now.
func (e *Entry) WithdrawnAt(now time.Time) bool {
	return e.Withdrawn != nil && !e.Withdrawn.After(now)
}
