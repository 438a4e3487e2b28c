package sqlite

import (
	"database/sql"
	"path/filepath"
	"testing"
)

// TestNoMmap: no connection of the pool maps the file. Under writes a
// mapping costs more than it saves: each connection unmaps its window
// whenever another connection has committed (docs/server.md).
func TestNoMmap(t *testing.T) {
	for i, c := range everyConn(t) {
		var size int64
		if err := c.QueryRowContext(t.Context(), `PRAGMA mmap_size`).Scan(&size); err != nil {
			t.Fatal(err)
		}
		if size != 0 {
			t.Fatalf("connection %d maps %d bytes of the file, want none", i, size)
		}
	}
}

// TestPageCacheSize: every connection, the writer's included, asks for a
// 512 KiB page cache, so that the pages the write connection can hoard
// from the shared budget stay few (sqlite.go, Open).
func TestPageCacheSize(t *testing.T) {
	for i, c := range everyConn(t) {
		var size int64
		if err := c.QueryRowContext(t.Context(), `PRAGMA cache_size`).Scan(&size); err != nil {
			t.Fatal(err)
		}
		if size != -512 {
			t.Fatalf("connection %d: cache_size %d, want -512 (KiB)", i, size)
		}
	}
}

// everyConn opens a store and returns each of its pooled connections,
// the write connection first.
func everyConn(t *testing.T) []*sql.Conn {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "evidence.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	conns := []*sql.Conn{s.writer}
	for range maxConns - 1 { // the writer holds the last one
		// Hold each connection, so that the next is another one.
		c, err := s.db.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		conns = append(conns, c)
	}
	return conns
}
