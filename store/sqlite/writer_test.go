package sqlite

import (
	"testing"

	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/keys"
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
