package postgres_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/store/postgres"
	"github.com/hallmark-dev/hallmark/store/postgres/pgtest"
)

// benchRecords sizes the store the benchmarks run against; the admission
// target (docs/server.md) is 100,000 records over 10,000 artifacts.
var benchRecords = flag.Int("pgbench.records", 100_000, "evidence records in the benchmark store (10 per subject)")

const (
	benchPerSubject = 10
	benchType       = "https://example.com/bench/v1"
)

// benchPad makes each bundle about 1.5 KB, the size of a small scan result.
var benchPad = strings.Repeat("x", 1024)

// signed returns n verified bundles, each about its own subject unless
// perSubject > 1, numbered from first. It signs on several goroutines.
func signed(ctx context.Context, key *keys.PrivateKey, tag string, first, n, perSubject int) ([]*attest.Verified, error) {
	out := make([]*attest.Verified, n)
	ks := attest.NewKeySet(key.Public())
	errs := make(chan error, 4)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < n; i += 4 {
				num := first + i
				sub := attesttest.Subject(fmt.Sprintf("artifact-%d", num/perSubject), fmt.Appendf(nil, "%s %d", tag, num/perSubject))
				pred, _ := json.Marshal(map[string]any{"n": num, "tag": tag, "pad": benchPad})
				st, err := attest.NewStatement([]attest.Subject{sub}, benchType, pred)
				if err == nil {
					var b []byte
					if b, err = attest.Sign(ctx, key, st); err == nil {
						out[i], err = attest.Verify(ctx, b, ks)
					}
				}
				if err != nil {
					errs <- fmt.Errorf("bundle %d: %w", num, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return out, <-errs
}

// BenchmarkStore measures the two calls a cache-missing admission makes:
// List of one artifact's evidence (10 records) and PutAll of two new records
// (VSA and decision), on a store holding -pgbench.records records.
func BenchmarkStore(b *testing.B) {
	ctx := b.Context()
	dsn := pgtest.FreshSchema(b)
	s, err := postgres.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	key := attesttest.Key(b, keys.Ed25519)
	start := time.Now()
	const chunk = 1000
	for first := 0; first < *benchRecords; first += chunk {
		vs, err := signed(ctx, key, "stored", first, min(chunk, *benchRecords-first), benchPerSubject)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.PutAll(ctx, vs); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("populated %d records in %s", *benchRecords, time.Since(start).Round(time.Millisecond))
	subjects := *benchRecords / benchPerSubject

	digests := make([]string, subjects)
	for i := range digests {
		digests[i] = "sha256:" + attesttest.Subject("", fmt.Appendf(nil, "stored %d", i)).Digest["sha256"]
	}

	b.Run("List10", func(b *testing.B) {
		i := 0
		for b.Loop() {
			// A stride through the subjects, so consecutive calls touch
			// different pages, as distinct admissions do.
			i = (i + 7919) % subjects
			recs, err := s.List(ctx, store.Query{Subject: digests[i]})
			if err != nil {
				b.Fatal(err)
			}
			if len(recs) != benchPerSubject || len(recs[0].Subjects) != 1 || len(recs[0].Signers) != 1 {
				b.Fatalf("List(%s) = %d records, want %d with one subject and signer each", digests[i], len(recs), benchPerSubject)
			}
		}
	})

	b.Run("PutAll2", func(b *testing.B) {
		n := 0
		for b.Loop() {
			b.StopTimer()
			vs, err := signed(ctx, key, "new", n, 2, 1)
			if err != nil {
				b.Fatal(err)
			}
			n += 2
			b.StartTimer()
			recs, err := s.PutAll(ctx, vs)
			if err != nil {
				b.Fatal(err)
			}
			if len(recs) != 2 || recs[1].ID != vs[1].ID {
				b.Fatalf("PutAll returned %+v", recs)
			}
		}
	})

	// Misses under concurrency: many goroutines each listing an artifact's
	// evidence and storing two new bundles, as concurrent admissions do,
	// through pools of different sizes (pool_max_conns in the DSN). Each
	// operation also signs its two bundles, as the gate does, so the
	// figure is the store's share of a miss plus two signatures.
	for _, conns := range []int{4, 16} {
		b.Run(fmt.Sprintf("Miss/pool_max_conns=%d", conns), func(b *testing.B) {
			ps, err := postgres.Open(ctx, dsn+fmt.Sprintf("&pool_max_conns=%d", conns))
			if err != nil {
				b.Fatal(err)
			}
			defer ps.Close()
			var next atomic.Int64
			b.SetParallelism(16)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					n := int(next.Add(1))
					recs, err := ps.List(ctx, store.Query{Subject: digests[(n*7919)%subjects]})
					if err != nil || len(recs) != benchPerSubject {
						b.Errorf("List: %v, %d records", err, len(recs))
						return
					}
					vs, err := signed(ctx, key, fmt.Sprintf("miss%d", conns), 2*n, 2, 1)
					if err == nil {
						_, err = ps.PutAll(ctx, vs)
					}
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
