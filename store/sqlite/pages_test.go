package sqlite

import (
	"database/sql"
	"fmt"
	"os"
	"testing"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/keys"
)

// TestPagesPerWrite counts the pages an admission miss's write (a VSA and
// a decision about one artifact, one PutAll) adds to the write-ahead log
// of a store of 4,000 records: each is a 4 KiB write at commit and again
// at the checkpoint, the bulk of the CPU a write costs. Schema version 3
// wrote 24.7 on average (an index ordered by record ID among them, a
// random page per record); migration 4 took it to 21.4, and migration 8
// (no index of subject and signer rows by record) from 22.7 to 18.7.
func TestPagesPerWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a store of 4,000 records; skipped with -short")
	}
	s, path := openTemp(t)
	key := attesttest.Key(t, keys.Ed25519)
	var batch []*attest.Verified
	for i := range 4000 {
		batch = append(batch, attesttest.Verified(t, key, fmt.Sprintf("https://example.com/p%d/v1", i%10), map[string]any{"i": i}, appSubject(i/10)))
		if len(batch) == 500 {
			if _, err := s.PutAll(t.Context(), batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	const writes = 200
	var vs [][]*attest.Verified
	for n := range writes {
		vs = append(vs, missWrite(t, key, 1_000_000+n))
	}
	// No checkpoint may reset the log while it counts: stop the store's
	// checkpointer (which restarts the log every checkpointRecords records,
	// so that the log's size once measured only the last such stretch),
	// switch SQLite's off on every connection of the pool, then start from
	// an empty log.
	s.ckpt.close()
	conns := make([]*sql.Conn, maxConns-1) // and the writer's
	for i := range conns {
		c, err := s.db.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		conns[i] = c
	}
	for _, c := range append(conns, s.writer) {
		if _, err := c.ExecContext(t.Context(), `PRAGMA wal_autocheckpoint = 0`); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range conns {
		c.Close()
	}
	if _, err := s.db.ExecContext(t.Context(), `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		if _, err := s.PutAll(t.Context(), v); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	const header, frameHeader, page = 32, 24, 4096
	perWrite := float64(fi.Size()-header) / (frameHeader + page) / writes
	t.Logf("%.2f pages into the WAL per write of a VSA and a decision", perWrite)
	if perWrite > 16 {
		t.Errorf("a write of a VSA and a decision adds %.2f pages to the WAL, want at most 16 (15.0 at schema 9, 18.2 at 8)", perWrite)
	}
}
