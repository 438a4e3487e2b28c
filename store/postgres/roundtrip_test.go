package postgres

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/store/postgres/pgtest"
)

// counter is a pgx tracer that counts the statements and batches a
// connection sends and the statements it prepares (each a round trip).
type counter struct {
	mu                         sync.Mutex
	queries, batches, prepares int
}

func (c *counter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.queries++
	return ctx
}
func (c *counter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (c *counter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.batches++
	return ctx
}
func (c *counter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (c *counter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}
func (c *counter) TracePrepareStart(ctx context.Context, _ *pgx.Conn, _ pgx.TracePrepareStartData) context.Context {
	return ctx
}
func (c *counter) TracePrepareEnd(_ context.Context, _ *pgx.Conn, d pgx.TracePrepareEndData) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !d.AlreadyPrepared {
		c.prepares++
	}
}

// take returns the counts since the last take and resets them.
func (c *counter) take() (queries, batches, prepares int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	q, b, p := c.queries, c.batches, c.prepares
	c.queries, c.batches, c.prepares = 0, 0, 0
	return q, b, p
}

// TestRoundTrips: on a warm connection, List, Get and PutAll of new bundles
// are one statement each, and none of them is prepared again, so pgx's
// statement cache serves every call after the first.
func TestRoundTrips(t *testing.T) {
	cfg, err := pgxpool.ParseConfig(pgtest.FreshSchema(t) + "&pool_max_conns=1")
	if err != nil {
		t.Fatal(err)
	}
	trace := &counter{}
	cfg.ConnConfig.Tracer = trace
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := newStore(pool, time.Now)
	defer s.Close()
	if err := s.migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	k := attesttest.Key(t, keys.Ed25519)
	sub := attesttest.Subject("app", []byte("app"))
	bySubject := store.Query{Subject: attesttest.Digest(sub)}
	pair := func(n int) []*attest.Verified {
		return []*attest.Verified{
			attesttest.Verified(t, k, "https://example.com/vsa/v1", map[string]any{"n": n}, sub),
			attesttest.Verified(t, k, "https://example.com/decision/v1", map[string]any{"n": n}, sub),
		}
	}
	// Warm the connection: the first use of each statement prepares it.
	if _, err := s.PutAll(t.Context(), pair(0)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.List(t.Context(), bySubject); err != nil {
		t.Fatal(err)
	}
	trace.take()

	for _, tc := range []struct {
		name string
		call func() error
		want int // statements
	}{
		{"List by subject", func() error { _, err := s.List(t.Context(), bySubject); return err }, 1},
		{"PutAll of two new bundles", func() error { _, err := s.PutAll(t.Context(), pair(1)); return err }, 1},
		{"PutAll of two other new bundles", func() error { _, err := s.PutAll(t.Context(), pair(2)); return err }, 1},
		{"PutAll of two stored bundles", func() error { _, err := s.PutAll(t.Context(), pair(2)); return err }, 2},
		{"List by subject again", func() error {
			recs, err := s.List(t.Context(), bySubject)
			if len(recs) != 6 {
				t.Errorf("List returned %d records, want 6", len(recs))
			}
			return err
		}, 1},
	} {
		if err := tc.call(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		queries, batches, prepares := trace.take()
		if queries != tc.want || batches != 0 {
			t.Errorf("%s: %d statements and %d batches, want %d statements", tc.name, queries, batches, tc.want)
		}
		// The stored-bundles read is new on this connection; nothing else is.
		if wantPrepares := tc.want - 1; prepares != wantPrepares {
			t.Errorf("%s: %d statements prepared, want %d (statement cache defeated?)", tc.name, prepares, wantPrepares)
		}
	}
}
