package vuln

import (
	"encoding/json"
	"strconv"
	"strings"

	cvss30 "github.com/pandatix/go-cvss/30"
	cvss31 "github.com/pandatix/go-cvss/31"
	cvss40 "github.com/pandatix/go-cvss/40"

	"github.com/hallmark-dev/hallmark/finding"
	"github.com/hallmark-dev/hallmark/vuln/osv"
)

// Rating is a severity with where it came from.
type Rating struct {
	// Severity is the rating; SeverityUnknown when the record carries none.
	Severity finding.Severity `json:"severity"`
	// Method is "CVSS_V4", "CVSS_V3", "database_specific", or "" when
	// unknown.
	Method string `json:"method,omitempty"`
	// Score is the CVSS base score computed from Vector (0 otherwise).
	Score float64 `json:"score,omitempty"`
	// Vector is the CVSS vector the score was computed from.
	Vector string `json:"vector,omitempty"`
}

// rate derives a rating from a record and the affected entries that
// matched: CVSS v4 first, then v3.x, from the affected entries before the
// record; then a database_specific "severity"; else unknown. Vectors that
// do not parse are ignored.
func rate(e *osv.Entry, matched []osv.Affected) Rating {
	var sets [][]osv.Severity
	for _, a := range matched {
		sets = append(sets, a.Severity)
	}
	sets = append(sets, e.Severity)
	for _, typ := range []string{"CVSS_V4", "CVSS_V3"} {
		best := Rating{}
		for _, set := range sets {
			for _, s := range set {
				if s.Type != typ {
					continue
				}
				if r, ok := cvssRating(typ, s.Score); ok && (best.Method == "" || r.Score > best.Score) {
					best = r
				}
			}
		}
		if best.Method != "" {
			return best
		}
	}
	raws := []json.RawMessage{}
	for _, a := range matched {
		raws = append(raws, a.DatabaseSpecific, a.EcosystemSpecific)
	}
	raws = append(raws, e.DatabaseSpecific)
	for _, raw := range raws {
		var ds struct {
			Severity json.RawMessage `json:"severity"`
		}
		if len(raw) == 0 || json.Unmarshal(raw, &ds) != nil || len(ds.Severity) == 0 {
			continue
		}
		var name string
		if json.Unmarshal(ds.Severity, &name) != nil {
			continue
		}
		if s, err := finding.ParseSeverity(name); err == nil && s != finding.SeverityUnknown {
			return Rating{Severity: s, Method: "database_specific"}
		}
	}
	return Rating{}
}

func cvssRating(typ, vector string) (Rating, bool) {
	var score float64
	switch typ {
	case "CVSS_V4":
		v, err := cvss40.ParseVector(vector)
		if err != nil {
			return Rating{}, false
		}
		score = v.Score()
	case "CVSS_V3":
		switch {
		case strings.HasPrefix(vector, "CVSS:3.1/"):
			v, err := cvss31.ParseVector(vector)
			if err != nil {
				return Rating{}, false
			}
			score = v.BaseScore()
		case strings.HasPrefix(vector, "CVSS:3.0/"):
			v, err := cvss30.ParseVector(vector)
			if err != nil {
				return Rating{}, false
			}
			score = v.BaseScore()
		default:
			return Rating{}, false
		}
	default:
		return Rating{}, false
	}
	return Rating{Severity: scoreSeverity(score), Method: typ, Score: score, Vector: vector}, true
}

// scoreSeverity maps a CVSS v3/v4 base score to its qualitative rating.
func scoreSeverity(score float64) finding.Severity {
	switch {
	case score >= 9.0:
		return finding.SeverityCritical
	case score >= 7.0:
		return finding.SeverityHigh
	case score >= 4.0:
		return finding.SeverityMedium
	case score >= 0.1:
		return finding.SeverityLow
	}
	return finding.SeverityInfo
}

func formatScore(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }
