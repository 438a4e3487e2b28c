package sqlite

import (
	"os"
	"sync"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/store"
)

// TestLogStaysBounded: with SQLite's own checkpoint switched off, the
// store's checkpointer keeps the write-ahead log short while readers and
// a writer run together, as on a busy server. 1,500 writes of a VSA and a
// decision add about 130 MB of frames; a checkpoint that only races the
// writers never lets the log restart, and in a server run it grew to
// 200 MB.
func TestLogStaysBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 3,000 records; skipped with -short")
	}
	s, path := openTemp(t)
	key := attesttest.Key(t, keys.Ed25519)
	reads := attesttest.Digest(attesttest.Subject("read", []byte("read")))
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 4 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.ListIDs(t.Context(), store.Query{Subject: reads}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	var largest int64
	for i := range 1500 {
		if _, err := s.PutAll(t.Context(), missWrite(t, key, i)); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(path + "-wal"); err == nil {
			largest = max(largest, fi.Size())
		}
	}
	close(stop)
	readers.Wait()
	t.Logf("largest write-ahead log: %d bytes", largest)
	// Measured: 4-11 MB, and 115 MB with the checkpoint racing writers
	// only; the bound leaves room for a loaded machine's slower readers.
	if largest > 48<<20 {
		t.Errorf("the write-ahead log grew to %d bytes, want at most 48 MiB", largest)
	}
}

// TestLongReadDoesNotHoldWrites: a read transaction that stays open (an
// export, another process) keeps the checkpointer from restarting the
// log; its locked pass gives up after restartWait instead of holding every
// write for the store's busy timeout (10 s) at each checkpoint.
func TestLongReadDoesNotHoldWrites(t *testing.T) {
	s, _ := openTemp(t)
	key := attesttest.Key(t, keys.Ed25519)
	conn, err := s.db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n int
	if _, err := conn.ExecContext(t.Context(), `BEGIN DEFERRED`); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRowContext(t.Context(), `SELECT count(*) FROM evidence`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := range 3 * checkpointRecords {
		if _, err := s.Put(t.Context(), missWrite(t, key, i)[0]); err != nil {
			t.Fatal(err)
		}
	}
	took := time.Since(start)
	if _, err := conn.ExecContext(t.Context(), `COMMIT`); err != nil {
		t.Fatal(err)
	}
	if took > 5*time.Second {
		t.Errorf("%d writes beside an open read took %v, want well under the busy timeout", 3*checkpointRecords, took)
	}
}

// TestCloseTwice: closing a store again is harmless, as it was before the
// checkpointer (whose second close panicked on its closed stop channel):
// tests of a failing store close it early and again at cleanup.
func TestCloseTwice(t *testing.T) {
	s, _ := openTemp(t)
	s.Close()
	s.Close()
}
