package postgres

import (
	"context"
	"fmt"

	"github.com/hallmark-dev/hallmark/store"
)

var (
	_ store.Deleter   = (*Store)(nil)
	_ store.Compacter = (*Store)(nil)
)

// deleteSQL removes a batch of records and the rows that refer to them
// (subjects, signers, indexed packages) in one statement, so one
// transaction. A record's subject and signer rows are found through the
// digests and keys its row lists, by subjects_digest and signers_key
// (migration 6). The packages' foreign keys are checked at the end of the
// statement, after all the deletes. It returns the IDs it removed.
const deleteSQL = `WITH gone AS (
	DELETE FROM evidence WHERE id = ANY($1) RETURNING id, stored_at, subjects, signers
), subs AS (
	DELETE FROM subjects s USING gone g, json_array_elements(g.subjects) AS j(r)
	WHERE s.alg = j.r->>1 AND s.digest = j.r->>2 AND s.stored_at = g.stored_at AND s.evidence_id = g.id
), sigs AS (
	DELETE FROM signers k USING gone g, json_array_elements_text(g.signers) AS j(key_id)
	WHERE k.key_id = j.key_id AND k.evidence_id = g.id
), pkgs AS (
	DELETE FROM packages WHERE evidence_id = ANY($1)
), idx AS (
	DELETE FROM packages_indexed WHERE evidence_id = ANY($1)
)
SELECT id FROM gone`

// Delete removes the records with these IDs and the rows that refer to
// them in one statement.
func (s *Store) Delete(ctx context.Context, ids []string) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	tag, err := s.pool.Exec(ctx, deleteSQL, ids)
	if err != nil {
		return 0, fmt.Errorf("delete %s: %w", describe(ids), err)
	}
	return int(tag.RowsAffected()), nil
}

// Compact runs VACUUM on the store's tables, so their free space is
// reused and the planner's statistics are fresh. (VACUUM FULL would give
// the space back to the file system but locks the tables; run it by hand
// in a maintenance window if that is needed.)
func (s *Store) Compact(ctx context.Context) error {
	for _, t := range []string{"evidence", "subjects", "signers", "packages", "packages_indexed"} {
		if _, err := s.pool.Exec(ctx, `VACUUM (ANALYZE) `+t); err != nil {
			return fmt.Errorf("compact: vacuum %s: %w", t, err)
		}
	}
	return nil
}

var _ store.Sizer = (*Store)(nil)

// Size is the total relation size (heap, TOAST and indexes) of the
// store's tables in its schema.
func (s *Store) Size(ctx context.Context) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT COALESCE(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c
		WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace
		AND c.relname IN ('evidence', 'subjects', 'signers', 'packages', 'packages_indexed')`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store size: %w", err)
	}
	return n, nil
}
