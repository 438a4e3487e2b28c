package postgres

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/jackc/pgx/v5"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/store/postgres/pgtest"
)

// TestMigrationOnExistingStore: a database a hallmark at schema version 2
// wrote opens at the current version with its records, gets the index
// migration 3 adds, and has its subjects and signers copied where
// migrations 5 and 6 keep them: the record reads back whole, a listing by
// its subject finds it from subjects_digest, and deleting it leaves no row.
func TestMigrationOnExistingStore(t *testing.T) {
	dsn := pgtest.FreshSchema(t)
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	bb := strings.Repeat("b", 64)
	for _, q := range append(migrations[:2:2],
		`CREATE TABLE hallmark_schema (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
		`INSERT INTO hallmark_schema(version) VALUES (1), (2)`,
		`INSERT INTO evidence(id, predicate_type, stored_at, bundle) VALUES ('sha256:aa', 'https://cyclonedx.org/bom', now(), '\x7b7d')`,
		`INSERT INTO subjects(evidence_id, name, alg, digest) VALUES ('sha256:aa', 'app', 'sha256', '`+bb+`'), ('sha256:aa', 'app', 'sha512', 'cc')`,
		`INSERT INTO signers(evidence_id, key_id) VALUES ('sha256:aa', 'key-1')`,
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
	rec, err := s.Get(t.Context(), "sha256:aa")
	if err != nil {
		t.Fatalf("record stored before the migration: %v", err)
	}
	wantSubjects := []attest.Subject{{Name: "app", Digest: map[string]string{"sha256": bb, "sha512": "cc"}}}
	if diff := cmp.Diff(wantSubjects, rec.Subjects); diff != "" || !slices.Equal(rec.Signers, []string{"key-1"}) {
		t.Errorf("record after the migration: signers %v, subjects (-want +got):\n%s", rec.Signers, diff)
	}
	ids, err := s.ListIDs(t.Context(), store.Query{Subject: digest.MustParse("sha256:" + bb)})
	if err != nil || !slices.Equal(ids, []string{"sha256:aa"}) {
		t.Errorf("ListIDs by the subject after the migration: %v, %v", ids, err)
	}
	ids, err = s.Unindexed(t.Context(), []string{"https://cyclonedx.org/bom"}, 10)
	if err != nil || len(ids) != 1 {
		t.Errorf("Unindexed after the migration: %v, %v", ids, err)
	}
	if err := s.Check(t.Context()); err != nil {
		t.Error(err)
	}
	if n, err := s.Delete(t.Context(), []string{"sha256:aa"}); err != nil || n != 1 {
		t.Fatalf("Delete after the migration = %d, %v", n, err)
	}
	for _, table := range []string{"evidence", "subjects", "signers"} {
		var n int
		if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM `+table).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s after Delete: %d rows (%v)", table, n, err)
		}
	}
}

// TestCheckFindsBrokenRows: with no foreign keys between a record and its
// subject and signer rows (migration 6), Check is what notices a row
// missing on either side.
func TestCheckFindsBrokenRows(t *testing.T) {
	for _, tc := range []struct{ name, breakSQL string }{
		{"subject row gone", `DELETE FROM subjects WHERE name = 'app'`},
		{"signer row gone", `DELETE FROM signers`},
		{"subject row of no record", `INSERT INTO subjects(evidence_id, name, alg, digest, predicate_type, stored_at) VALUES ('sha256:00', 'x', 'sha256', 'ee', 't', now())`},
		{"subject row of another time", `UPDATE subjects SET stored_at = stored_at + interval '1 second'`},
		{"signer row of no record", `INSERT INTO signers(evidence_id, key_id) VALUES ('sha256:00', 'k')`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dsn := pgtest.FreshSchema(t)
			s, err := Open(t.Context(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			k := attesttest.Key(t, keys.Ed25519)
			v := attesttest.Verified(t, k, "https://example.com/sbom", map[string]any{"n": 1}, attesttest.Subject("app", []byte("app")))
			if _, err := s.Put(t.Context(), v); err != nil {
				t.Fatal(err)
			}
			if err := s.Check(t.Context()); err != nil {
				t.Fatalf("Check before breaking a row: %v", err)
			}
			if _, err := s.pool.Exec(t.Context(), tc.breakSQL); err != nil {
				t.Fatal(err)
			}
			if err := s.Check(t.Context()); err == nil || !strings.Contains(err.Error(), "integrity check failed") {
				t.Errorf("Check after %q: %v, want an integrity failure", tc.breakSQL, err)
			}
		})
	}
}
