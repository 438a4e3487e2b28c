package osvdb

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/hallmark-dev/hallmark/internal/limits"
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

// Ratings returns the severity data of the records of base ecosystem eco
// whose ID or alias is name (for example the GHSA advisory a GO- record
// lists as an alias), whatever package they name. Withdrawn records are
// left out. It returns nothing for an ecosystem imported before ratings
// were recorded: re-import to fill them.
func (db *DB) Ratings(eco, name string) ([]Rated, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	idx, ok := db.ratings[eco]
	if !ok {
		m, found := db.meta.Ecosystems[eco]
		if found && m.Ratings != "" {
			b, err := limits.ReadFile(filepath.Join(db.dir, ecoDir, filepath.Base(m.Ratings)), maxRatingsBytes)
			if err != nil {
				return nil, fmt.Errorf("%w: %s ratings: %w", ErrCorrupt, eco, err)
			}
			if err := json.Unmarshal(b, &idx); err != nil {
				return nil, fmt.Errorf("%w: %s ratings: %w", ErrCorrupt, eco, err)
			}
		}
		if db.ratings == nil {
			db.ratings = map[string]map[string][]Rated{}
		}
		db.ratings[eco] = idx
	}
	return slices.Clone(idx[name]), nil
}
