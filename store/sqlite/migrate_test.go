package sqlite

import (
	"database/sql"
	"path/filepath"
	"testing"
)

// TestMigrationOnExistingStore: a store written by a hallmark at schema
// version 2 opens at the current version with its records, and gets the
// index migration 3 adds.
func TestMigrationOnExistingStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "evidence.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range append(migrations[:2:2],
		`PRAGMA user_version = 2`,
		`INSERT INTO evidence(id, predicate_type, stored_at, bundle) VALUES ('sha256:aa', 'https://cyclonedx.org/bom', 1, x'7b7d')`,
		`INSERT INTO subjects(evidence_id, name, alg, digest) VALUES ('sha256:aa', 'app', 'sha256', 'bb')`,
	) {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var version, indexes int
	if err := s.db.QueryRow(`PRAGMA user_version`).Scan(&version); err != nil || version != len(migrations) || version < 3 {
		t.Fatalf("schema version %d (%v), want %d", version, err, len(migrations))
	}
	if err := s.db.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = 'evidence_type_id'`).Scan(&indexes); err != nil || indexes != 1 {
		t.Fatalf("index evidence_type_id: %d (%v)", indexes, err)
	}
	if _, err := s.Get(t.Context(), "sha256:aa"); err != nil {
		t.Errorf("record stored before the migration: %v", err)
	}
	ids, err := s.Unindexed(t.Context(), []string{"https://cyclonedx.org/bom"}, 10)
	if err != nil || len(ids) != 1 {
		t.Errorf("Unindexed after the migration: %v, %v", ids, err)
	}
	if err := s.Check(t.Context()); err != nil {
		t.Error(err)
	}
}
