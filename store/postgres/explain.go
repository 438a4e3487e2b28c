package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/hallmark-dev/hallmark/store"
)

var _ store.Explainer = (*Store)(nil)

// ExplainList returns the plan of List(q).
func (s *Store) ExplainList(ctx context.Context, q store.Query) (store.Plan, error) {
	sqlText, args, err := listSQL(q)
	if err != nil {
		return store.Plan{}, err
	}
	return s.explain(ctx, sqlText, args...)
}

// ExplainSubjectsWithPackages returns the plan of SubjectsWithPackages(pkgs).
func (s *Store) ExplainSubjectsWithPackages(ctx context.Context, pkgs []store.Package) (store.Plan, error) {
	ecos, names := packageColumns(pkgs)
	return s.explain(ctx, subjectsWithPackagesSQL, ecos, names)
}

// ExplainSubjectsIndexed returns the plan of SubjectsIndexed(subjects).
func (s *Store) ExplainSubjectsIndexed(ctx context.Context, subjects []string) (store.Plan, error) {
	algs, digests, err := subjectColumns(subjects)
	if err != nil {
		return store.Plan{}, err
	}
	return s.explain(ctx, subjectsIndexedSQL, algs, digests)
}

// ExplainUnindexed returns the plan of Unindexed(predicateTypes, limit).
func (s *Store) ExplainUnindexed(ctx context.Context, predicateTypes []string, limit int) (store.Plan, error) {
	return s.explain(ctx, unindexedSQL, predicateTypes, limit)
}

// planNode is a node of EXPLAIN (FORMAT JSON)'s tree.
type planNode struct {
	NodeType  string     `json:"Node Type"`
	Relation  string     `json:"Relation Name"`
	Index     string     `json:"Index Name"`
	IndexCond string     `json:"Index Cond"`
	Plans     []planNode `json:"Plans"`
}

// explain runs EXPLAIN twice on one connection, as text to show and as
// JSON to read: a "Seq Scan" reads its table whole, and so does an index
// scan without an index condition (a walk of the whole index, for its
// order); an index scan with a condition, or a bitmap index scan, looks
// rows up. The arguments are bound as the query binds them, so the plan
// is the one PostgreSQL makes for these values.
func (s *Store) explain(ctx context.Context, sqlText string, args ...any) (store.Plan, error) {
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		return store.Plan{}, fmt.Errorf("explain: %w", err)
	}
	defer c.Release()
	rows, err := c.Query(ctx, `EXPLAIN `+sqlText, args...)
	if err != nil {
		return store.Plan{}, fmt.Errorf("explain: %w", err)
	}
	text, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return store.Plan{}, fmt.Errorf("explain: %w", err)
	}
	var raw []byte
	if err := c.QueryRow(ctx, `EXPLAIN (FORMAT JSON) `+sqlText, args...).Scan(&raw); err != nil {
		return store.Plan{}, fmt.Errorf("explain: %w", err)
	}
	var doc []struct {
		Plan planNode `json:"Plan"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil || len(doc) != 1 {
		return store.Plan{}, fmt.Errorf("explain: read the JSON plan: %v", err)
	}
	p := store.Plan{Text: text}
	var walk func(n planNode)
	walk = func(n planNode) {
		switch {
		case n.NodeType == "Seq Scan":
			p.FullScans = append(p.FullScans, n.Relation)
		case strings.HasSuffix(n.NodeType, "Index Scan") || n.NodeType == "Index Only Scan":
			if n.IndexCond == "" {
				p.FullScans = append(p.FullScans, indexTable(n))
			}
			p.Indexes = append(p.Indexes, n.Index)
		}
		for _, c := range n.Plans {
			walk(c)
		}
	}
	walk(doc[0].Plan)
	return p, nil
}

// indexTable names the table an index scan reads: its relation, or for a
// bitmap index scan (which has none) the index's name.
func indexTable(n planNode) string {
	if n.Relation != "" {
		return n.Relation
	}
	return n.Index
}
