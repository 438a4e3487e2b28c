package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hallmark-dev/hallmark/store"
)

var (
	_ store.Deleter   = (*Store)(nil)
	_ store.Compacter = (*Store)(nil)
)

// Delete removes the records with these IDs and the rows that refer to
// them (subjects, signers, indexed packages) in one transaction. It takes
// the committer's lock, so it runs between group commits rather
// than racing them for SQLite's lock.
func (s *Store) Delete(ctx context.Context, ids []string) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	s.writes.Lock()
	defer s.writes.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("delete evidence: begin: %w", err)
	}
	defer tx.Rollback()
	removed := 0
	for _, id := range ids {
		n, err := deleteRecord(ctx, tx, id)
		if err != nil {
			return 0, fmt.Errorf("delete evidence %s: %w", id, err)
		}
		removed += n
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("delete evidence: commit: %w", err)
	}
	s.ckpt.wrote(removed)
	return removed, nil
}

// The statements deleting one subject row and one signer row of a record.
const (
	deleteSubjectSQL = `DELETE FROM subjects WHERE alg = ? AND digest = ? AND stored_at = ? AND evidence_id = ?`
	deleteSignerSQL  = `DELETE FROM signers WHERE key_id = ? AND stored_at = ? AND evidence_id = ?`
)

// deleteRecord removes one record and the rows that refer to it, and
// returns 1, or 0 when no record has that ID. Subject and signer rows
// are keyed by digest and by key, then time and record (migration 9):
// they are found through the digests, keys and time the record's row
// holds.
func deleteRecord(ctx context.Context, tx *sql.Tx, id string) (int, error) {
	var storedAt int64
	var subjectsJSON, signersJSON []byte
	err := tx.QueryRowContext(ctx, `SELECT stored_at, subjects, signers FROM evidence WHERE id = ?`, id).Scan(&storedAt, &subjectsJSON, &signersJSON)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var subjects []store.SubjectRow
	if err := json.Unmarshal(subjectsJSON, &subjects); err != nil {
		return 0, fmt.Errorf("read subjects: %w", err)
	}
	var signers []string
	if err := json.Unmarshal(signersJSON, &signers); err != nil {
		return 0, fmt.Errorf("read signers: %w", err)
	}
	for _, sub := range subjects {
		if _, err := tx.ExecContext(ctx, deleteSubjectSQL, sub[1], sub[2], storedAt, id); err != nil {
			return 0, err
		}
	}
	for _, k := range signers {
		if _, err := tx.ExecContext(ctx, deleteSignerSQL, k, storedAt, id); err != nil {
			return 0, err
		}
	}
	for _, q := range []string{`DELETE FROM packages WHERE evidence_id = ?`, `DELETE FROM packages_indexed WHERE evidence_id = ?`, `DELETE FROM evidence WHERE id = ?`} {
		if _, err := tx.ExecContext(ctx, q, id); err != nil {
			return 0, err
		}
	}
	return 1, nil
}

// Compact rewrites the database file without the pages deleted records
// left free (VACUUM), then truncates the write-ahead log. Writers wait.
// VACUUM builds the new copy in a temporary database, which the store's
// connections keep in memory (temp_store): this one keeps it in a file,
// so compacting a store of some gigabytes does not take as much memory.
func (s *Store) Compact(ctx context.Context) error {
	s.writes.Lock()
	defer s.writes.Unlock()
	c, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	defer c.Close()
	for _, q := range []string{`PRAGMA temp_store = FILE`, `VACUUM`, `PRAGMA temp_store = MEMORY`, `PRAGMA wal_checkpoint(TRUNCATE)`} {
		if _, err := c.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("compact: %s: %w", q, err)
		}
	}
	return nil
}

var _ store.Sizer = (*Store)(nil)

// Size is the bytes of the database's pages in use: its page count less
// the free list, times the page size.
func (s *Store) Size(ctx context.Context) (int64, error) {
	var pages, free, size int64
	err := s.db.QueryRowContext(ctx, `SELECT (SELECT page_count FROM pragma_page_count()), (SELECT freelist_count FROM pragma_freelist_count()), (SELECT page_size FROM pragma_page_size())`).Scan(&pages, &free, &size)
	if err != nil {
		return 0, fmt.Errorf("store size: %w", err)
	}
	return (pages - free) * size, nil
}
