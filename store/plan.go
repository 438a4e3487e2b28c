package store

import (
	"context"
	"slices"
)

// Plan is how a store's database would run one of its queries.
type Plan struct {
	// Text is the plan as the database prints it (SQLite's EXPLAIN QUERY
	// PLAN, PostgreSQL's EXPLAIN), one step a line.
	Text []string `json:"text"`
	// FullScans are the stored tables the plan reads whole: a sequential
	// scan, or a walk of a whole index without a search condition.
	FullScans []string `json:"fullScans,omitempty"`
	// Indexes are the indexes the plan searches, in plan order.
	Indexes []string `json:"indexes,omitempty"`
	// Walks are the indexes the plan reads in their order from one end
	// without a search condition (SQLite's "SCAN t USING INDEX x"): cheap
	// for a listing that stops at a small limit, a whole read otherwise.
	Walks []string `json:"walks,omitempty"`
}

// Scans reports whether the plan reads table whole.
func (p Plan) Scans(table string) bool { return slices.Contains(p.FullScans, table) }

// Uses reports whether the plan searches index.
func (p Plan) Uses(index string) bool { return slices.Contains(p.Indexes, index) }

// Walk reports whether the plan reads index in order from one end.
func (p Plan) Walk(index string) bool { return slices.Contains(p.Walks, index) }

// Explainer is implemented by stores that can show the plans of their
// queries: the queries the gate, recheck and impact run on every request
// must read through indexes, so their cost does not grow with the store
// (bench/store's scale command prints them; the conformance suite checks
// them).
type Explainer interface {
	// ExplainList returns the plan of List(q).
	ExplainList(ctx context.Context, q Query) (Plan, error)
	// ExplainSubjectsWithPackages returns the plan of SubjectsWithPackages(pkgs).
	ExplainSubjectsWithPackages(ctx context.Context, pkgs []Package) (Plan, error)
	// ExplainSubjectsIndexed returns the plan of SubjectsIndexed(subjects).
	ExplainSubjectsIndexed(ctx context.Context, subjects []string) (Plan, error)
	// ExplainUnindexed returns the plan of Unindexed(predicateTypes, limit).
	ExplainUnindexed(ctx context.Context, predicateTypes []string, limit int) (Plan, error)
}
