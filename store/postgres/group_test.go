package postgres

import (
	"context"
	"fmt"
	"testing"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/store/postgres/pgtest"
)

// TestGroupCommitIsolatesFailures: a group is one statement, but a write
// that PostgreSQL rejects fails alone; the others of its group are stored,
// a caller that gave up gets its own error, and every caller gets its own
// records.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	s, err := Open(t.Context(), pgtest.FreshSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	k := attesttest.Key(t, keys.Ed25519)
	pair := func(n int) []*attest.Verified {
		sub := attesttest.Subject(fmt.Sprint("app-", n), []byte(fmt.Sprint(n)))
		return []*attest.Verified{
			attesttest.Verified(t, k, "https://example.com/vsa/v1", map[string]any{"n": n}, sub),
			attesttest.Verified(t, k, "https://example.com/decision/v1", map[string]any{"n": n}, sub),
		}
	}
	stored := pair(0)
	if _, err := s.PutAll(t.Context(), stored[:1]); err != nil {
		t.Fatal(err)
	}
	bad := pair(2)
	bad[1].PredicateType = "https://example.com/\x00" // text PostgreSQL refuses
	gaveUp, cancel := context.WithCancel(t.Context())
	cancel()
	group := []*write{
		{ctx: t.Context(), vs: stored}, // one stored before, one new
		{ctx: t.Context(), vs: pair(1)},
		{ctx: t.Context(), vs: bad},
		{ctx: gaveUp, vs: pair(3)},
		{ctx: t.Context(), vs: pair(1)}, // the same evidence as the second write
	}
	s.commitGroup(group)
	for i, w := range group {
		switch i {
		case 2, 3:
			if w.err == nil {
				t.Errorf("write %d succeeded", i)
			}
			for _, v := range w.vs {
				if _, err := s.Get(t.Context(), v.ID); err == nil {
					t.Errorf("write %d failed but stored %s", i, v.ID)
				}
			}
		default:
			if w.err != nil {
				t.Errorf("write %d: %v", i, w.err)
				continue
			}
			if len(w.recs) != len(w.vs) {
				t.Fatalf("write %d: %d records for %d bundles", i, len(w.recs), len(w.vs))
			}
			for j, v := range w.vs {
				got, err := s.Get(t.Context(), v.ID)
				if err != nil {
					t.Errorf("write %d: %s not stored: %v", i, v.ID, err)
					continue
				}
				if w.recs[j].ID != v.ID || !w.recs[j].StoredAt.Equal(got.StoredAt) {
					t.Errorf("write %d record %d = %s stored at %v, want %s stored at %v", i, j, w.recs[j].ID, w.recs[j].StoredAt, v.ID, got.StoredAt)
				}
			}
		}
	}
	if _, err := s.Get(t.Context(), bad[0].ID); err == nil {
		t.Error("the failed write's valid bundle was stored: a write must be all or nothing")
	}
	var n int
	if err := s.pool.QueryRow(t.Context(), `SELECT count(*) FROM evidence`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Errorf("%d records stored, want 4 (two pairs)", n)
	}
}
