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
	"github.com/hallmark-dev/hallmark/vuln/osvdb"
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
	// From is the alias record the rating was taken from (a GHSA
	// advisory for a GO- record) when the finding's own records carry
	// none; empty when the rating is the finding's own.
	From string `json:"from,omitempty"`
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

// RatingSource is implemented by a Database that can give the severity
// data of the records of an ecosystem by ID or alias, whatever package they
// name (*osvdb.DB does). A finding whose records carry no rating takes the
// highest rating among its aliases' records.
type RatingSource interface {
	Ratings(eco, name string) ([]osvdb.Rated, error)
}

var _ RatingSource = (*osvdb.DB)(nil)

// aliasRating rates a finding from the records its names point to, for
// findings whose own records carry no rating.
func aliasRating(src RatingSource, eco string, own map[string]bool, names []string) (Rating, error) {
	best := Rating{}
	for _, n := range names {
		rs, err := src.Ratings(eco, n)
		if err != nil {
			return Rating{}, err
		}
		for _, r := range rs {
			if own[r.ID] {
				continue
			}
			e := &osv.Entry{ID: r.ID, Severity: r.Severity}
			if r.DatabaseSeverity != "" {
				e.DatabaseSpecific, _ = json.Marshal(map[string]string{"severity": r.DatabaseSeverity})
			}
			got := rate(e, nil)
			got.From = r.ID
			if got.Severity > best.Severity || (got.Severity == best.Severity && got.Score > best.Score) {
				best = got
			}
		}
	}
	return best, nil
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
