package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/hallmark-dev/hallmark/store"
)

var (
	_ store.IDLister    = (*Store)(nil)
	_ store.IDExplainer = (*Store)(nil)
)

// ListIDs returns the IDs of the records List(q) returns, in its order,
// without reading their bundles, subjects or signers. For a subject
// (without a signer) it reads one range of subjects_digest, which holds
// each record's ID, type and time in the listing's order (migration 5).
func (s *Store) ListIDs(ctx context.Context, q store.Query) ([]string, error) {
	sqlText, args, err := idsSQL(q)
	if err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, sqlText, args...)
	if err != nil {
		return nil, fmt.Errorf("list evidence IDs %+v: %w", q, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list evidence IDs %+v: %w", q, err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return ids, nil
}

// idsSQL is the statement ListIDs runs for q, and its arguments.
func idsSQL(q store.Query) (string, []any, error) {
	if q.Subject.IsZero() || q.Signer != "" {
		return selectSQL(`id`, q)
	}
	if q.Limit < 0 {
		return "", nil, fmt.Errorf("%w: negative limit %d", store.ErrBadQuery, q.Limit)
	}
	args := []any{q.Subject.Algorithm(), q.Subject.Hex()}
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	where := []string{`alg = $1`, `digest = $2`}
	if q.PredicateType != "" {
		where = append(where, `predicate_type = `+arg(q.PredicateType))
	}
	if len(q.ExcludePredicateTypes) > 0 {
		where = append(where, `predicate_type <> ALL(`+arg(q.ExcludePredicateTypes)+`)`)
	}
	where = append(where, timeRange(q, arg)...)
	// A record with two subjects of one digest has two rows: one group
	// each, and the index delivers the groups in order.
	sqlText := `SELECT evidence_id FROM subjects WHERE ` + strings.Join(where, ` AND `) + ` GROUP BY stored_at, evidence_id`
	return sqlText + orderAndLimit(q, `evidence_id`, arg), args, nil
}

// bundlesSQL reads the bundles of the IDs $1 through the primary key.
const bundlesSQL = `SELECT id, bundle FROM evidence WHERE id = ANY($1)`

// Bundles returns the bundles of the records with these IDs, by ID.
func (s *Store) Bundles(ctx context.Context, ids []string) (map[string][]byte, error) {
	out := make(map[string][]byte, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, bundlesSQL, ids)
	if err != nil {
		return nil, fmt.Errorf("read bundles: %w", err)
	}
	var id string
	var b []byte
	if _, err := pgx.ForEachRow(rows, []any{&id, &b}, func() error {
		out[id] = b // pgx scans bytea into a new slice each row
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read bundles: %w", err)
	}
	return out, nil
}

// ExplainListIDs returns the plan of ListIDs(q).
func (s *Store) ExplainListIDs(ctx context.Context, q store.Query) (store.Plan, error) {
	sqlText, args, err := idsSQL(q)
	if err != nil {
		return store.Plan{}, err
	}
	return s.explain(ctx, sqlText, args...)
}

// ExplainBundles returns the plan of Bundles(ids).
func (s *Store) ExplainBundles(ctx context.Context, ids []string) (store.Plan, error) {
	return s.explain(ctx, bundlesSQL, ids)
}
