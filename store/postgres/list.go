package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/hallmark-dev/hallmark/store"
)

// recordColumns selects whole records: each row holds its record's
// subjects and signers as JSON (migration 6).
const recordColumns = `SELECT id, predicate_type, stored_at, bundle, subjects, signers FROM evidence`

// getSQL reads one record by ID.
const getSQL = recordColumns + ` WHERE id = $1`

// Get returns the record with the given ID.
func (s *Store) Get(ctx context.Context, id string) (store.Record, error) {
	recs, err := s.query(ctx, getSQL, id)
	if err != nil {
		return store.Record{}, fmt.Errorf("get %s: %w", id, err)
	}
	if len(recs) == 0 {
		return store.Record{}, fmt.Errorf("%w: %s", store.ErrNotFound, id)
	}
	return recs[0], nil
}

// IDsWithPrefix returns up to limit IDs starting with prefix, in byte order
// (COLLATE "C", whatever the database's collation).
func (s *Store) IDsWithPrefix(ctx context.Context, prefix string, limit int) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT id FROM evidence WHERE starts_with(id, $1) ORDER BY id COLLATE "C" LIMIT $2`, prefix, limit)
	if err != nil {
		return nil, fmt.Errorf("ids with prefix %s: %w", prefix, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("ids with prefix %s: %w", prefix, err)
	}
	return ids, nil
}

var _ store.Prefixer = (*Store)(nil)

// List returns the records matching q, oldest first (newest first with
// q.Newest).
func (s *Store) List(ctx context.Context, q store.Query) ([]store.Record, error) {
	sqlText, args, err := listSQL(q)
	if err != nil {
		return nil, err
	}
	recs, err := s.query(ctx, sqlText, args...)
	if err != nil {
		return nil, fmt.Errorf("list evidence %+v: %w", q, err)
	}
	return recs, nil
}

// listSQL is the statement List runs for q, and its arguments.
func listSQL(q store.Query) (string, []any, error) {
	return selectSQL(`id, predicate_type, stored_at, bundle, subjects, signers`, q)
}

// selectSQL is the statement selecting columns of the evidence rows
// matching q, in q's order, and its arguments.
func selectSQL(columns string, q store.Query) (string, []any, error) {
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	if !q.Subject.IsZero() {
		where = append(where, `id IN (SELECT evidence_id FROM subjects WHERE alg = `+arg(q.Subject.Algorithm())+` AND digest = `+arg(q.Subject.Hex())+`)`)
	}
	if q.PredicateType != "" {
		// With a subject, the subject's few records are read through
		// subjects_digest and filtered by type: the type is compared as an
		// expression no index holds. Compared as the column, PostgreSQL may
		// read every record of the type through evidence_type_time (every
		// decision, for the newest decisions about an artifact) and join,
		// a cost that grows with the store.
		if !q.Subject.IsZero() {
			where = append(where, `predicate_type || '' = `+arg(q.PredicateType))
		} else {
			where = append(where, `predicate_type = `+arg(q.PredicateType))
		}
	}
	if len(q.ExcludePredicateTypes) > 0 {
		where = append(where, `predicate_type <> ALL(`+arg(q.ExcludePredicateTypes)+`)`)
	}
	if q.Signer != "" {
		where = append(where, `id IN (SELECT evidence_id FROM signers WHERE key_id = `+arg(q.Signer)+`)`)
	}
	where = append(where, timeRange(q, arg)...)
	if q.Limit < 0 {
		return "", nil, fmt.Errorf("%w: negative limit %d", store.ErrBadQuery, q.Limit)
	}
	// The text depends only on which fields are set, never on their values,
	// so pgx's per-connection statement cache holds at most a few dozen of
	// these and every call after the first on a connection skips parsing.
	evidence := `SELECT ` + columns + ` FROM evidence`
	if len(where) > 0 {
		evidence += ` WHERE ` + strings.Join(where, ` AND `)
	}
	return evidence + orderAndLimit(q, `id`, arg), args, nil
}

// timeRange is the conditions on stored_at of q's Since and Until, their
// values added with arg.
func timeRange(q store.Query, arg func(any) string) []string {
	var where []string
	if !q.Since.IsZero() {
		where = append(where, `stored_at >= `+arg(q.Since.UTC()))
	}
	if !q.Until.IsZero() {
		where = append(where, `stored_at < `+arg(q.Until.UTC()))
	}
	return where
}

// orderAndLimit is the ORDER BY (stored_at, then the record ID in column
// id) and LIMIT clauses of a listing for q.
func orderAndLimit(q store.Query, id string, arg func(any) string) string {
	clauses := ` ORDER BY stored_at, ` + id
	if q.Newest {
		clauses = ` ORDER BY stored_at DESC, ` + id + ` DESC`
	}
	if q.Limit > 0 {
		clauses += ` LIMIT ` + arg(q.Limit)
	}
	return clauses
}

// query runs a statement selecting recordColumns and assembles its rows
// into records.
func (s *Store) query(ctx context.Context, sqlText string, args ...any) ([]store.Record, error) {
	rows, err := s.pool.Query(ctx, sqlText, args...)
	if err != nil {
		return nil, err
	}
	recs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Record, error) {
		var rec store.Record
		var subjects, signers []byte
		if err := r.Scan(&rec.ID, &rec.PredicateType, &rec.StoredAt, &rec.Bundle, &subjects, &signers); err != nil {
			return rec, err
		}
		rec.StoredAt = rec.StoredAt.UTC()
		return rec, store.DecodeLists(&rec, subjects, signers)
	})
	if err != nil {
		return nil, fmt.Errorf("read evidence: %w", err)
	}
	if len(recs) == 0 {
		return nil, nil
	}
	return recs, nil
}
