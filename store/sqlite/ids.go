package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hallmark-dev/hallmark/store"
)

var (
	_ store.IDLister    = (*Store)(nil)
	_ store.IDExplainer = (*Store)(nil)
)

// idColumns selects only a record's ID: with the covering indexes of
// migration 4, a listing by subject reads no table row (see ListIDs).
const idColumns = `SELECT e.id FROM evidence e`

// ListIDs returns the IDs of the records List(q) returns, in its order.
// For a subject (without a signer) it reads one range of the subjects
// table, keyed by digest, time and record ID and holding each record's
// type (migrations 6 and 9), in the listing's order, and no evidence row.
func (s *Store) ListIDs(ctx context.Context, q store.Query) ([]string, error) {
	sqlText, args, err := idsSQL(q)
	if err != nil {
		return nil, err
	}
	rows, err := s.stmts.query(ctx, sqlText, args...)
	if err != nil {
		return nil, fmt.Errorf("list evidence IDs: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("list evidence IDs: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list evidence IDs: %w", err)
	}
	return ids, nil
}

// idsSQL is the statement ListIDs runs for q, and its arguments.
func idsSQL(q store.Query) (string, []any, error) {
	if q.Subject.IsZero() || q.Signer != "" {
		return selectSQL(idColumns, q)
	}
	if q.Limit < 0 {
		return "", nil, fmt.Errorf("%w: negative limit %d", store.ErrBadQuery, q.Limit)
	}
	where := []string{`alg = ?`, `digest = ?`}
	args := []any{q.Subject.Algorithm(), q.Subject.Hex()}
	if q.PredicateType != "" {
		where = append(where, `predicate_type = ?`)
		args = append(args, q.PredicateType)
	}
	if n := len(q.ExcludePredicateTypes); n > 0 {
		where = append(where, `predicate_type NOT IN (`+strings.TrimSuffix(strings.Repeat("?,", n), ",")+`)`)
		for _, t := range q.ExcludePredicateTypes {
			args = append(args, t)
		}
	}
	if !q.Since.IsZero() {
		where = append(where, `stored_at >= ?`)
		args = append(args, q.Since.UnixNano())
	}
	if !q.Until.IsZero() {
		where = append(where, `stored_at < ?`)
		args = append(args, q.Until.UnixNano())
	}
	// A record with two subjects of one digest has two rows: one group
	// each, and the index delivers the groups in order.
	sqlText := `SELECT evidence_id FROM subjects WHERE ` + strings.Join(where, ` AND `) + ` GROUP BY stored_at, evidence_id`
	if q.Newest {
		sqlText += ` ORDER BY stored_at DESC, evidence_id DESC`
	} else {
		sqlText += ` ORDER BY stored_at, evidence_id`
	}
	if q.Limit > 0 {
		sqlText += fmt.Sprintf(` LIMIT %d`, q.Limit)
	}
	return sqlText, args, nil
}

// bundlesSQL reads the bundles of a JSON array of IDs through the primary
// key: one statement text whatever the number of IDs, so it is prepared
// once.
const bundlesSQL = `SELECT e.id, e.bundle FROM evidence e WHERE e.id IN (SELECT value FROM json_each(?))`

// Bundles returns the bundles of the records with these IDs, by ID.
func (s *Store) Bundles(ctx context.Context, ids []string) (map[string][]byte, error) {
	if len(ids) == 0 {
		return map[string][]byte{}, nil
	}
	rows, err := s.stmts.query(ctx, bundlesSQL, idArray(ids))
	if err != nil {
		return nil, fmt.Errorf("read bundles: %w", err)
	}
	defer rows.Close()
	out := make(map[string][]byte, len(ids))
	for rows.Next() {
		var id string
		var b []byte
		if err := rows.Scan(&id, &b); err != nil {
			return nil, fmt.Errorf("read bundles: %w", err)
		}
		out[id] = b
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read bundles: %w", err)
	}
	return out, nil
}

// idArray is the JSON array of ids bundlesSQL takes.
func idArray(ids []string) string {
	b, _ := json.Marshal(ids) // strings always marshal
	return string(b)
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
	return s.explain(ctx, bundlesSQL, idArray(ids))
}
