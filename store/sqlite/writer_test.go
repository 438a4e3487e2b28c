package sqlite

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/store"
)

// TestWriterReplaced: when the kept write connection is gone, the next
// write opens another and is stored, instead of every later write failing.
func TestWriterReplaced(t *testing.T) {
	s, _ := openTemp(t)
	key := attesttest.Key(t, keys.Ed25519)
	if err := s.writer.Close(); err != nil {
		t.Fatal(err)
	}
	recs, err := s.PutAll(t.Context(), missWrite(t, key, 1))
	if err != nil {
		t.Fatalf("write after the write connection was closed: %v", err)
	}
	got, err := s.Get(t.Context(), recs[1].ID)
	if err != nil || got.ID != recs[1].ID {
		t.Fatalf("Get %s: %v, %v", recs[1].ID, got.ID, err)
	}
}

// TestFailedWriteInGroupFailsAlone: writes committed in one group, one of
// which SQLite refuses (a trigger here), each get their own outcome: the
// refused write stores nothing and reports the error, the others are
// stored. The group is first written without savepoints, then again
// with one per write once a write has failed.
func TestFailedWriteInGroupFailsAlone(t *testing.T) {
	s, _ := openTemp(t)
	key := attesttest.Key(t, keys.Ed25519)
	if _, err := s.db.Exec(`CREATE TRIGGER refuse BEFORE INSERT ON evidence WHEN NEW.predicate_type = 'https://example.com/refused' BEGIN SELECT RAISE(ABORT, 'refused by test'); END`); err != nil {
		t.Fatal(err)
	}
	writes := [][]*attest.Verified{
		missWrite(t, key, 1),
		{attesttest.Verified(t, key, "https://example.com/refused", map[string]any{"n": 2}, appSubject(2))},
		missWrite(t, key, 3),
	}
	errs := make([]error, len(writes))
	var wg sync.WaitGroup
	s.writes.Lock() // queue all three behind the lock: one group
	for i, vs := range writes {
		wg.Go(func() { _, errs[i] = s.PutAll(t.Context(), vs) })
	}
	waitGroupQueued(t, s, len(writes))
	s.writes.Unlock()
	wg.Wait()
	for i, vs := range writes {
		refused := i == 1
		if refused != (errs[i] != nil) || refused && !strings.Contains(errs[i].Error(), "refused by test") {
			t.Errorf("write %d: error %v", i, errs[i])
		}
		for _, v := range vs {
			_, err := s.Get(t.Context(), v.ID)
			if refused != errors.Is(err, store.ErrNotFound) {
				t.Errorf("write %d: Get(%s) = %v", i, v.ID, err)
			}
		}
	}
}

// waitGroupQueued waits until n writes wait in s's committer.
func waitGroupQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.writes.Queued() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d writes never queued", n)
		}
		time.Sleep(100 * time.Microsecond)
	}
}
