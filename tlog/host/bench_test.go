package host_test

import (
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/tlog"
)

// BenchmarkSignLogTimestamp measures sign + log + timestamp against the
// hosted services (one signer, then 32 concurrent ones) and offline
// verification of the result, reporting p50 and p99 per operation:
//
//	go test ./tlog/host -run XXX -bench SignLogTimestamp -benchtime 64x
func BenchmarkSignLogTimestamp(b *testing.B) {
	s := start(b, b.TempDir())
	k := attesttest.Key(b, keys.ECDSAP256)
	st, err := attest.NewStatement([]attest.Subject{attesttest.Subject("app", []byte("x"))}, predType, []byte(`{}`))
	if err != nil {
		b.Fatal(err)
	}
	signOne := func() ([]byte, time.Duration) {
		start := time.Now()
		raw, err := attest.Sign(b.Context(), k, st, attest.WithTransparencyLog(s.logURL), attest.WithTimestampAuthority(s.tsaURL))
		if err != nil {
			b.Fatal(err)
		}
		return raw, time.Since(start)
	}
	report := func(b *testing.B, ds []time.Duration) {
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(ds[len(ds)*99/100].Microseconds())/1000, "p99-ms")
	}
	var sample []byte
	b.Run("sign+log+timestamp/1", func(b *testing.B) {
		var ds []time.Duration
		for b.Loop() {
			raw, d := signOne()
			sample, ds = raw, append(ds, d)
		}
		report(b, ds)
	})
	b.Run("sign+log+timestamp/32", func(b *testing.B) {
		var mu sync.Mutex
		var ds []time.Duration
		b.SetParallelism(32)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_, d := signOne()
				mu.Lock()
				ds = append(ds, d)
				mu.Unlock()
			}
		})
		report(b, ds)
	})
	tr, err := tlog.ParseRoot(s.root)
	if err != nil {
		b.Fatal(err)
	}
	ks := attest.NewKeySet(k.Public())
	b.Run("verify", func(b *testing.B) {
		var ds []time.Duration
		for b.Loop() {
			start := time.Now()
			if _, err := attest.Verify(b.Context(), sample, ks, attest.WithTrustedRoot(tr)); err != nil {
				b.Fatal(err)
			}
			ds = append(ds, time.Since(start))
		}
		report(b, ds)
	})
}
