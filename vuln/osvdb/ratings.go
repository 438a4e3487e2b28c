package osvdb

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/hallmark-dev/hallmark/vuln/osv"
)

// maxRatingsBytes bounds a ratings file read back from disk.
const maxRatingsBytes = 256 << 20

// Rated is the severity data of one record, kept so that a record without
// a rating of its own (every GO- record of the Go vulnerability database)
// can take it from an alias (its GHSA advisory), whatever package the
// alias names.
type Rated struct {
	// ID is the record that carries the rating.
	ID string `json:"id"`
	// Severity holds the record's severity entries and those of its
	// affected packages.
	Severity []osv.Severity `json:"severity,omitempty"`
	// DatabaseSeverity is the record's database_specific "severity" name
	// (GitHub's "HIGH", "MODERATE", ...), if any.
	DatabaseSeverity string `json:"databaseSeverity,omitempty"`
}

// ratedOf extracts the severity data of e; ok is false when it has none.
func ratedOf(e *osv.Entry) (Rated, bool) {
	r := Rated{ID: e.ID, Severity: slices.Clone(e.Severity)}
	for _, a := range e.Affected {
		for _, s := range a.Severity {
			if !slices.Contains(r.Severity, s) {
				r.Severity = append(r.Severity, s)
			}
		}
	}
	var ds struct {
		Severity string `json:"severity"`
	}
	if len(e.DatabaseSpecific) > 0 && json.Unmarshal(e.DatabaseSpecific, &ds) == nil {
		r.DatabaseSeverity = ds.Severity
	}
	return r, len(r.Severity) > 0 || r.DatabaseSeverity != ""
}

// Ratings returns the severity data of the records, in any ecosystem, whose
// ID or alias is name (for example the GHSA advisory a GO- record lists as
// an alias). Withdrawn records are left out. It returns nothing for
// databases imported before ratings were recorded: re-import to fill them.
func (db *DB) Ratings(name string) ([]Rated, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.ratings == nil {
		all := map[string][]Rated{}
		ecos := make([]string, 0, len(db.meta.Ecosystems))
		for eco := range db.meta.Ecosystems {
			ecos = append(ecos, eco)
		}
		slices.Sort(ecos)
		for _, eco := range ecos {
			m := db.meta.Ecosystems[eco]
			if m.Ratings == "" {
				continue
			}
			b, err := readLimited(filepath.Join(db.dir, ecoDir, filepath.Base(m.Ratings)), maxRatingsBytes)
			if err != nil {
				return nil, fmt.Errorf("%w: %s ratings: %v", ErrCorrupt, eco, err)
			}
			var part map[string][]Rated
			if err := json.Unmarshal(b, &part); err != nil {
				return nil, fmt.Errorf("%w: %s ratings: %v", ErrCorrupt, eco, err)
			}
			for k, v := range part {
				for _, r := range v {
					if !slices.ContainsFunc(all[k], func(x Rated) bool { return x.ID == r.ID }) {
						all[k] = append(all[k], r)
					}
				}
			}
		}
		db.ratings = all
	}
	return slices.Clone(db.ratings[name]), nil
}
