package sqlite

import (
	"context"
	"fmt"
	"strings"

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
	return s.explain(ctx, subjectsWithPackagesSQL, packagePairs(pkgs))
}

// ExplainSubjectsIndexed returns the plan of SubjectsIndexed(subjects).
func (s *Store) ExplainSubjectsIndexed(ctx context.Context, subjects []string) (store.Plan, error) {
	pairs, err := subjectPairs(subjects)
	if err != nil {
		return store.Plan{}, err
	}
	return s.explain(ctx, subjectsIndexedSQL, pairs)
}

// ExplainUnindexed returns the plan of Unindexed(predicateTypes, limit).
func (s *Store) ExplainUnindexed(ctx context.Context, predicateTypes []string, limit int) (store.Plan, error) {
	q, args := unindexedSQL(predicateTypes, limit)
	return s.explain(ctx, q, args...)
}

// aliases are the table aliases of the store's statements.
var aliases = map[string]string{"e": "evidence", "s": "subjects", "g": "signers", "p": "packages", "i": "packages_indexed"}

// explain runs EXPLAIN QUERY PLAN and reads its steps: "SCAN t" reads
// table t whole; "SCAN t USING ... INDEX x" walks x in order from one end
// (as far as the query's limit); "SEARCH t USING ... INDEX x (...)" looks
// rows up through x.
func (s *Store) explain(ctx context.Context, sqlText string, args ...any) (store.Plan, error) {
	rows, err := s.db.QueryContext(ctx, `EXPLAIN QUERY PLAN `+sqlText, args...)
	if err != nil {
		return store.Plan{}, fmt.Errorf("explain: %w", err)
	}
	defer rows.Close()
	var p store.Plan
	depth := map[int]int{}
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			return store.Plan{}, fmt.Errorf("explain: %w", err)
		}
		depth[id] = depth[parent] + 1
		p.Text = append(p.Text, strings.Repeat("  ", depth[id]-1)+detail)
		f := strings.Fields(detail)
		if len(f) < 2 || strings.Contains(detail, "VIRTUAL TABLE") || strings.HasPrefix(f[1], "(") || f[1] == "CONSTANT" {
			continue
		}
		table := f[1]
		if t, ok := aliases[table]; ok {
			table = t
		}
		switch f[0] {
		case "SCAN":
			if i := indexOf(f, "INDEX"); i > 0 && i+1 < len(f) {
				p.Walks = append(p.Walks, f[i+1])
			} else {
				p.FullScans = append(p.FullScans, table)
			}
		case "SEARCH":
			if i := indexOf(f, "INDEX"); i > 0 && i+1 < len(f) {
				p.Indexes = append(p.Indexes, f[i+1])
			} else if strings.Contains(detail, "INTEGER PRIMARY KEY") {
				p.Indexes = append(p.Indexes, table+" rowid")
			} else if strings.Contains(detail, "USING PRIMARY KEY") {
				p.Indexes = append(p.Indexes, table+" primary key") // a WITHOUT ROWID table's key
			}
		}
	}
	return p, rows.Err()
}

func indexOf(f []string, word string) int {
	for i, w := range f {
		if w == word {
			return i
		}
	}
	return -1
}
