package postgres_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/store/postgres"
	"github.com/hallmark-dev/hallmark/store/postgres/pgtest"
	"github.com/hallmark-dev/hallmark/store/storetest"
)

// open opens a store on a fresh schema with sequential scans priced out
// (enable_seqscan=off): the suite's tables hold a few rows, which
// PostgreSQL reads whole whatever indexes there are, so only thus do the
// plans the suite checks (HotQueriesUseIndexes) show whether an index can
// serve each query. Results do not depend on it.
func open(t *testing.T, now func() time.Time) store.Store {
	s, err := postgres.Open(t.Context(), pgtest.FreshSchema(t)+"&enable_seqscan=off", postgres.WithClock(now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) { storetest.Run(t, open) }

// TestConcurrentOpenMigratesOnce: several processes starting together on
// one empty database apply each migration exactly once.
func TestConcurrentOpenMigratesOnce(t *testing.T) {
	dsn := pgtest.FreshSchema(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			s, err := postgres.Open(t.Context(), dsn)
			if err != nil {
				errs <- err
				return
			}
			s.Close()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	s, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Check(t.Context()); err != nil {
		t.Error(err)
	}
}

// openDSN opens a store on a fresh schema and also returns its DSN, for
// tests that look at the tables themselves.
func openDSN(t *testing.T) (*postgres.Store, string) {
	dsn := pgtest.FreshSchema(t)
	s, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dsn
}

// count returns the rows of table in the schema dsn points at.
func count(t *testing.T, dsn, table string) int {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	var n int
	if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM "+pgx.Identifier{table}.Sanitize()).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPutAllFailsWhole: when PostgreSQL rejects one row of a batch (a NUL
// byte, which text columns cannot hold), nothing of the batch is stored,
// not even the bundles before it.
func TestPutAllFailsWhole(t *testing.T) {
	s, dsn := openDSN(t)
	k := attesttest.Key(t, keys.Ed25519)
	good := attesttest.Verified(t, k, "https://example.com/a/v1", map[string]any{"n": 1}, attesttest.Subject("good", []byte("good")))
	bad := attesttest.Verified(t, k, "https://example.com/a/v1", map[string]any{"n": 2}, attesttest.Subject("nul\x00name", []byte("bad")))
	if _, err := s.PutAll(t.Context(), []*attest.Verified{good, bad}); err == nil {
		t.Fatal("PutAll with a subject name PostgreSQL cannot store succeeded")
	} else if !strings.Contains(err.Error(), "sha256:") {
		t.Errorf("error does not name the batch: %v", err)
	}
	for _, table := range []string{"evidence", "subjects", "signers"} {
		if n := count(t, dsn, table); n != 0 {
			t.Errorf("%s has %d rows after a failed batch", table, n)
		}
	}
}

// TestPutAllDuplicates: a bundle twice in one batch, or already stored, is
// stored once, with one set of subject and signer rows, and every position
// gets the stored record.
func TestPutAllDuplicates(t *testing.T) {
	s, dsn := openDSN(t)
	k := attesttest.Key(t, keys.Ed25519)
	sub := attesttest.Subject("x", []byte("x"))
	v1 := attesttest.Verified(t, k, "https://example.com/a/v1", map[string]any{"n": 1}, sub)
	v2 := attesttest.Verified(t, k, "https://example.com/a/v1", map[string]any{"n": 2}, sub)
	first, err := s.PutAll(t.Context(), []*attest.Verified{v1, v1})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first[0], first[1]); diff != "" {
		t.Errorf("same bundle twice in one batch, records differ:\n%s", diff)
	}
	again, err := s.PutAll(t.Context(), []*attest.Verified{v2, v1, v2})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first[0], again[1]); diff != "" {
		t.Errorf("stored bundle not answered with its stored record:\n%s", diff)
	}
	if again[0].ID != v2.ID || again[2].ID != v2.ID {
		t.Errorf("positions mixed up: %s %s %s", again[0].ID, again[1].ID, again[2].ID)
	}
	for table, want := range map[string]int{"evidence": 2, "subjects": 2, "signers": 2} {
		if n := count(t, dsn, table); n != want {
			t.Errorf("%s has %d rows, want %d", table, n, want)
		}
	}
}

// TestRecordFacts: several subjects with several digest algorithms come back
// grouped by name and sorted, the same from Get and List.
func TestRecordFacts(t *testing.T) {
	s, _ := openDSN(t)
	k := attesttest.Key(t, keys.Ed25519)
	subs := []attest.Subject{
		{Name: "zeta", Digest: map[string]string{"sha256": strings.Repeat("ab", 32), "sha512": strings.Repeat("CD", 64)}},
		{Name: "alpha", Digest: map[string]string{"sha256": strings.Repeat("01", 32)}},
	}
	v := attesttest.Verified(t, k, "https://example.com/a/v1", map[string]any{}, subs...)
	if _, err := s.Put(t.Context(), v); err != nil {
		t.Fatal(err)
	}
	want := []attest.Subject{
		{Name: "alpha", Digest: map[string]string{"sha256": strings.Repeat("01", 32)}},
		{Name: "zeta", Digest: map[string]string{"sha256": strings.Repeat("ab", 32), "sha512": strings.Repeat("cd", 64)}},
	}
	got, err := s.Get(t.Context(), v.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got.Subjects); diff != "" {
		t.Errorf("Get subjects (-want +got):\n%s", diff)
	}
	listed, err := s.List(t.Context(), store.Query{Subject: digest.MustParse("sha512:" + strings.Repeat("cd", 64))})
	if err != nil || len(listed) != 1 {
		t.Fatalf("List by sha512: %v, %d records", err, len(listed))
	}
	if diff := cmp.Diff(got, listed[0]); diff != "" {
		t.Errorf("List and Get differ (-get +list):\n%s", diff)
	}
}

// TestConcurrentOverlappingBatches: batches sharing bundles, in different
// orders, all succeed (no deadlock) and agree on each bundle's record.
func TestConcurrentOverlappingBatches(t *testing.T) {
	s, dsn := openDSN(t)
	k := attesttest.Key(t, keys.Ed25519)
	vs := make([]*attest.Verified, 8)
	for i := range vs {
		vs[i] = attesttest.Verified(t, k, "https://example.com/a/v1", map[string]any{"i": i}, attesttest.Subject(fmt.Sprint(i), []byte{byte(i)}))
	}
	const writers = 16
	results := make([][]store.Record, writers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		batch := slices.Clone(vs)
		if w%2 == 1 {
			slices.Reverse(batch)
		}
		wg.Go(func() {
			<-start
			recs, err := s.PutAll(t.Context(), batch)
			if err != nil {
				t.Error(err)
				return
			}
			results[w] = recs
		})
	}
	close(start)
	wg.Wait()
	stored := map[string]time.Time{}
	for _, recs := range results {
		for _, r := range recs {
			if at, ok := stored[r.ID]; ok && !at.Equal(r.StoredAt) {
				t.Errorf("%s: StoredAt %v and %v from two batches", r.ID, at, r.StoredAt)
			}
			stored[r.ID] = r.StoredAt
		}
	}
	if len(stored) != len(vs) || count(t, dsn, "subjects") != len(vs) {
		t.Errorf("%d records, %d subject rows, want %d each", len(stored), count(t, dsn, "subjects"), len(vs))
	}
}

// TestRefusesAsynchronousCommit: a DSN (or role, or server) that turns
// synchronous_commit off would let acknowledged evidence vanish in a crash.
func TestRefusesAsynchronousCommit(t *testing.T) {
	dsn := pgtest.FreshSchema(t)
	if _, err := postgres.Open(t.Context(), dsn+"&synchronous_commit=off"); err == nil || !strings.Contains(err.Error(), "synchronous_commit") {
		t.Fatalf("Open with synchronous_commit=off: %v, want a refusal naming synchronous_commit", err)
	}
	s, err := postgres.Open(t.Context(), dsn+"&synchronous_commit=local")
	if err != nil {
		t.Fatalf("Open with synchronous_commit=local (durable on this server): %v", err)
	}
	s.Close()
}
