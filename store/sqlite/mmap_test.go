package sqlite

import (
	"path/filepath"
	"testing"
)

// TestMmapWindow: every connection of the pool maps as much of the file as
// SQLite allows (its compile-time maximum, 2 GiB - 64 KiB), not the 1 GiB
// a store of 300,000 records outgrew (docs/retention.md).
func TestMmapWindow(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "evidence.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range maxConns {
		// Hold each connection, so that the next is another one.
		c, err := s.db.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var size int64
		if err := c.QueryRowContext(t.Context(), `PRAGMA mmap_size`).Scan(&size); err != nil {
			t.Fatal(err)
		}
		if size < 2<<30-64<<10 {
			t.Fatalf("connection %d maps %d bytes, want at least 2 GiB - 64 KiB", i, size)
		}
	}
}
