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
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "evidence.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	conns := []*sql.Conn{s.writer}
	for range maxConns - 1 { // the writer holds the last one
		// Hold each connection, so that the next is another one.
		c, err := s.db.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	for i, c := range conns {
		var size int64
		if err := c.QueryRowContext(t.Context(), `PRAGMA mmap_size`).Scan(&size); err != nil {
			t.Fatal(err)
		}
		if size != 0 {
			t.Fatalf("connection %d maps %d bytes of the file, want none", i, size)
		}
	}
}
