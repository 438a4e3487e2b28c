package postgres

import (
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/hallmark-dev/hallmark/store/postgres/pgtest"
)

// TestMigrationOnExistingStore: a database a hallmark at schema version 2
// wrote opens at the current version with its records, and gets the index
// migration 3 adds.
func TestMigrationOnExistingStore(t *testing.T) {
	dsn := pgtest.FreshSchema(t)
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	for _, q := range append(migrations[:2:2],
		`CREATE TABLE hallmark_schema (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
		`INSERT INTO hallmark_schema(version) VALUES (1), (2)`,
		`INSERT INTO evidence(id, predicate_type, stored_at, bundle) VALUES ('sha256:aa', 'https://cyclonedx.org/bom', now(), '\x7b7d')`,
		`INSERT INTO subjects(evidence_id, name, alg, digest) VALUES ('sha256:aa', 'app', 'sha256', 'bb')`,
	) {
		if _, err := conn.Exec(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var version, indexes int
	if err := conn.QueryRow(t.Context(), `SELECT max(version) FROM hallmark_schema`).Scan(&version); err != nil || version != len(migrations) || version < 3 {
		t.Fatalf("schema version %d (%v), want %d", version, err, len(migrations))
	}
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'evidence_type_id'`).Scan(&indexes); err != nil || indexes != 1 {
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
