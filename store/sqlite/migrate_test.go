package sqlite

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/store"
)

// TestMigrationOnExistingStore: a store written by a hallmark at schema
// version 2, 3 or 4 opens at the current version with its records, with
// the indexes of the current version: evidence_type_time holds the IDs
// (migration 4), evidence_type_id is gone, Unindexed reads the IDs from
// evidence_type_time alone, and subjects_digest holds the evidence ID
// (migration 5), and its rows hold their record's type and time, so
// ListIDs finds the old record from that index alone (migration 6), and
// its row holds its subjects and signers, which Delete finds without the
// dropped indexes of them by record (migration 8), in subject and signer
// tables keyed by digest and key, with no foreign key (migration 9).
func TestMigrationOnExistingStore(t *testing.T) {
	for _, from := range []int{2, 3, 4, 5} {
		t.Run(fmt.Sprint("from version ", from), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "evidence.db")
			db, err := sql.Open("sqlite", "file:"+path)
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range append(slices.Clone(migrations[:from]),
				fmt.Sprintf(`PRAGMA user_version = %d`, from),
				`INSERT INTO evidence(id, predicate_type, stored_at, bundle) VALUES ('sha256:aa', 'https://cyclonedx.org/bom', 1, x'7b7d')`,
				`INSERT INTO subjects(evidence_id, name, alg, digest) VALUES ('sha256:aa', 'app', 'sha256', '`+strings.Repeat("b", 64)+`')`,
				`INSERT INTO signers(evidence_id, key_id) VALUES ('sha256:aa', 'key-1')`,
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
			if err := s.db.QueryRow(`PRAGMA user_version`).Scan(&version); err != nil || version != len(migrations) || version < 6 {
				t.Fatalf("schema version %d (%v), want %d", version, err, len(migrations))
			}
			if err := s.db.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = 'evidence_type_id'`).Scan(&indexes); err != nil || indexes != 0 {
				t.Fatalf("index evidence_type_id: %d (%v), want it dropped", indexes, err)
			}
			var cols []string
			rows, err := s.db.Query(`SELECT name FROM pragma_index_info('evidence_type_time') ORDER BY seqno`)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var c string
				if err := rows.Scan(&c); err != nil {
					t.Fatal(err)
				}
				cols = append(cols, c)
			}
			rows.Close()
			if want := []string{"predicate_type", "stored_at", "id"}; !slices.Equal(cols, want) {
				t.Fatalf("evidence_type_time on %v, want %v", cols, want)
			}
			var typ string
			var at int64
			if err := s.db.QueryRow(`SELECT predicate_type, stored_at FROM subjects WHERE evidence_id = 'sha256:aa'`).Scan(&typ, &at); err != nil || typ != "https://cyclonedx.org/bom" || at != 1 {
				t.Errorf("subject row after the migration: type %q, time %d (%v), want its record's", typ, at, err)
			}
			if got, err := s.ListIDs(t.Context(), store.Query{Subject: digest.MustParse("sha256:" + strings.Repeat("b", 64)), PredicateType: "https://cyclonedx.org/bom"}); err != nil || len(got) != 1 {
				t.Errorf("ListIDs by type after the migration: %v, %v", got, err)
			}
			rec, err := s.Get(t.Context(), "sha256:aa")
			if err != nil {
				t.Errorf("record stored before the migration: %v", err)
			}
			// Migration 8: the row holds its subjects and signers.
			if len(rec.Subjects) != 1 || rec.Subjects[0].Name != "app" || rec.Subjects[0].Digest["sha256"] != strings.Repeat("b", 64) || !slices.Equal(rec.Signers, []string{"key-1"}) {
				t.Errorf("record stored before the migration reads subjects %v, signers %v", rec.Subjects, rec.Signers)
			}
			for _, gone := range []string{"subjects_evidence", "signers_evidence"} {
				if err := s.db.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = ?`, gone).Scan(&indexes); err != nil || indexes != 0 {
					t.Errorf("index %s: %d (%v), want it dropped", gone, indexes, err)
				}
			}
			ids, err := s.Unindexed(t.Context(), []string{"https://cyclonedx.org/bom"}, 10)
			if err != nil || len(ids) != 1 {
				t.Errorf("Unindexed after the migration: %v, %v", ids, err)
			}
			p, err := s.ExplainUnindexed(t.Context(), []string{"https://cyclonedx.org/bom", "https://spdx.dev/Document"}, 200)
			if err != nil || !p.Uses("evidence_type_time") || p.Scans("evidence") {
				t.Errorf("Unindexed's plan (%v):\n%s", err, p.Text)
			}
			got, err := s.ListIDs(t.Context(), store.Query{Subject: digest.MustParse("sha256:" + strings.Repeat("b", 64))})
			if err != nil || !slices.Equal(got, []string{"sha256:aa"}) {
				t.Errorf("ListIDs after the migration: %v, %v", got, err)
			}
			lp, err := s.ExplainListIDs(t.Context(), store.Query{Subject: digest.MustParse("sha256:" + strings.Repeat("b", 64))})
			if err != nil || !strings.Contains(strings.Join(lp.Text, "\n"), "SEARCH subjects USING PRIMARY KEY (alg=? AND digest=?)") {
				t.Errorf("ListIDs' plan (%v):\n%s", err, lp.Text)
			}
			if err := s.Check(t.Context()); err != nil {
				t.Error(err)
			}
			if n, err := s.Delete(t.Context(), []string{"sha256:aa"}); err != nil || n != 1 {
				t.Fatalf("Delete of the migrated record: %d, %v", n, err)
			}
			for _, table := range []string{"subjects", "signers", "evidence"} {
				var left int
				if err := s.db.QueryRow(`SELECT count(*) FROM ` + table).Scan(&left); err != nil || left != 0 {
					t.Errorf("%s rows after Delete: %d (%v), want none", table, left, err)
				}
			}
		})
	}
}

// TestDeleteFindsRowsThroughIndexes: with no index of subject and signer
// rows by record (migration 8), Delete finds them through the subjects
// and signers tables' keys (migration 9), never by reading the whole
// table.
func TestDeleteFindsRowsThroughIndexes(t *testing.T) {
	s, _ := openTemp(t)
	for q, args := range map[string][]any{
		deleteSubjectSQL: {"sha256", strings.Repeat("b", 64), int64(1), "sha256:aa"},
		deleteSignerSQL:  {"key-1", int64(1), "sha256:aa"},
	} {
		p, err := s.explain(t.Context(), q, args...)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.FullScans) > 0 || len(p.Walks) > 0 || len(p.Indexes) == 0 {
			t.Errorf("%s reads the table whole:\n%s", q, strings.Join(p.Text, "\n"))
		}
	}
}

// TestForeignKeysAreIndexed: every foreign key's columns lead an index of
// their table (or its key). Deleting a row a foreign key refers to looks
// for rows referring to it; without such an index SQLite reads the
// referring table whole for each deleted row, which made pruning a store
// of subjects and signers without indexes by record (migration 8) take
// 10 ms per record at 300,000 rows.
func TestForeignKeysAreIndexed(t *testing.T) {
	s, _ := openTemp(t)
	rows, err := s.db.Query(`SELECT m.name, f."from" FROM sqlite_schema m, pragma_foreign_key_list(m.name) f WHERE m.type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	type fk struct{ table, column string }
	var fks []fk
	for rows.Next() {
		var k fk
		if err := rows.Scan(&k.table, &k.column); err != nil {
			t.Fatal(err)
		}
		fks = append(fks, k)
	}
	rows.Close()
	if len(fks) == 0 {
		t.Fatal("no foreign keys found: the query is wrong or the schema has none left to check")
	}
	for _, k := range fks {
		var n int
		err := s.db.QueryRow(`SELECT count(*) FROM pragma_index_list(?) l, pragma_index_info(l.name) i WHERE i.seqno = 0 AND i.name = ?`, k.table, k.column).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Errorf("foreign key %s.%s leads no index: deleting a row it refers to reads %s whole", k.table, k.column, k.table)
		}
	}
}
