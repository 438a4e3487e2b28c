package sqlite_test

import (
	"flag"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/internal/benchcpu"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/store/sqlite"
)

var benchRecords = flag.Int("sqlite.records", 20000, "records in the benchmark store (10 per subject)")

// BenchmarkStore measures the store calls of an admission miss on a store
// of -sqlite.records records, ten per artifact: listing one artifact's
// evidence, and storing a VSA and a decision together.
func BenchmarkStore(b *testing.B) {
	ctx := b.Context()
	s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "evidence.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	key := attesttest.Key(b, keys.Ed25519)
	subject := func(i int) attest.Subject {
		return attesttest.Subject(fmt.Sprint("app-", i), fmt.Appendf(nil, "artifact %d", i))
	}
	start := time.Now()
	const perSubject = 10
	var batch []*attest.Verified
	for i := range *benchRecords {
		batch = append(batch, attesttest.Verified(b, key, fmt.Sprintf("https://example.com/p%d/v1", i%perSubject), map[string]any{"i": i}, subject(i/perSubject)))
		if len(batch) == 1000 || i == *benchRecords-1 {
			if _, err := s.PutAll(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	b.Logf("populated %d records in %s", *benchRecords, time.Since(start).Round(time.Millisecond))
	subjects := *benchRecords / perSubject
	b.Run("List10", func(b *testing.B) {
		i := 0
		for b.Loop() {
			sub := subject(i % subjects)
			recs, err := s.List(ctx, store.Query{Subject: attesttest.Digest(sub)})
			if err != nil || len(recs) != perSubject || len(recs[0].Subjects) != 1 || len(recs[0].Signers) != 1 {
				b.Fatalf("List: %d records, %v", len(recs), err)
			}
			i += 7919
		}
	})
	b.Run("PutAll2", func(b *testing.B) {
		n := 0
		vs := make([][]*attest.Verified, 0, 4096)
		for range 4096 {
			sub := subject(1_000_000 + n)
			vs = append(vs, []*attest.Verified{
				attesttest.Verified(b, key, "https://example.com/vsa/v1", map[string]any{"n": n}, sub),
				attesttest.Verified(b, key, "https://example.com/decision/v1", map[string]any{"n": n}, sub),
			})
			n++
		}
		i := 0
		c0 := benchcpu.Process(b)
		b.ResetTimer()
		for b.Loop() {
			if i == len(vs) {
				b.Fatal("ran out of prepared records")
			}
			if _, err := s.PutAll(ctx, vs[i]); err != nil {
				b.Fatal(err)
			}
			i++
		}
		benchcpu.ReportSince(b, c0, b.N)
	})
	// Eight writers at once, as concurrent admission misses are: group
	// commit shares one transaction and fsync among them. cpu-ms/op is
	// the process's CPU (user and system) per PutAll.
	b.Run("PutAll2-parallel", func(b *testing.B) {
		var next atomic.Int64
		vs := make([][]*attest.Verified, 0, 8192)
		for n := range 8192 {
			sub := subject(2_000_000 + n)
			vs = append(vs, []*attest.Verified{
				attesttest.Verified(b, key, "https://example.com/vsa/v1", map[string]any{"n": n}, sub),
				attesttest.Verified(b, key, "https://example.com/decision/v1", map[string]any{"n": n}, sub),
			})
		}
		b.SetParallelism(4)
		c0 := benchcpu.Process(b)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := int(next.Add(1)) - 1
				if i >= len(vs) {
					b.Error("ran out of prepared records")
					return
				}
				if _, err := s.PutAll(ctx, vs[i]); err != nil {
					b.Error(err)
					return
				}
			}
		})
		benchcpu.ReportSince(b, c0, b.N)
	})
}
