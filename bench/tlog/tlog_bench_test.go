package tlogbench

import (
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/tlog"
	"github.com/hallmark-dev/hallmark/tlog/tlogtest"
)

const predType = "https://example.com/bench/v1"

// report adds the median and 99th percentile latency and the throughput.
func report(b *testing.B, lat []time.Duration, total time.Duration) {
	if len(lat) == 0 {
		return
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p := func(q float64) float64 {
		return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(p(0.5), "p50-ms")
	b.ReportMetric(p(0.99), "p99-ms")
	b.ReportMetric(float64(len(lat))/total.Seconds(), "ops/s")
}

func statement(b *testing.B, i int) *intoto.Statement {
	pred, _ := json.Marshal(map[string]any{"n": i})
	st, err := attest.NewStatement([]attest.Subject{attesttest.Subject("app", fmt.Appendf(nil, "artifact %d", i))}, predType, pred)
	if err != nil {
		b.Fatal(err)
	}
	return st
}

func BenchmarkTlog(b *testing.B) {
	s := tlogtest.Start(b)
	tr, err := tlog.ParseRoot(s.Root)
	if err != nil {
		b.Fatal(err)
	}
	k := attesttest.Key(b, keys.ECDSAP256)
	opts := []attest.SignOption{attest.WithTransparencyLog(s.Log.URL), attest.WithTimestampAuthority(s.TSA.URL)}
	var raw []byte
	b.Run("sign+log+timestamp", func(b *testing.B) {
		var lat []time.Duration
		start := time.Now()
		i := 0
		for b.Loop() {
			t0 := time.Now()
			out, err := attest.Sign(b.Context(), k, statement(b, i), opts...)
			if err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
			raw = out
			i++
		}
		report(b, lat, time.Since(start))
	})
	if raw == nil {
		b.Fatal("nothing signed")
	}
	// rekor-tiles answers an add once a checkpoint covering it is published
	// (it polls every second), so one signer waits about a second; many
	// signers share each checkpoint.
	b.Run("sign+log+timestamp/parallel-32", func(b *testing.B) {
		var mu sync.Mutex
		var lat []time.Duration
		var n atomic.Int64
		b.SetParallelism(16) // 2 cores x 16 = 32 concurrent signers
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				t0 := time.Now()
				if _, err := attest.Sign(b.Context(), k, statement(b, int(n.Add(1))+1_000_000), opts...); err != nil {
					b.Error(err)
					return
				}
				d := time.Since(t0)
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}
		})
		report(b, lat, time.Since(start))
	})
	ks := attest.NewKeySet(k.Public())
	b.Run("verify/hallmark", func(b *testing.B) {
		var lat []time.Duration
		start := time.Now()
		for b.Loop() {
			t0 := time.Now()
			if _, err := attest.Verify(b.Context(), raw, ks, attest.WithTrustedRoot(tr)); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
		}
		report(b, lat, time.Since(start))
	})
	b.Run("verify/sigstore-go", func(b *testing.B) {
		pv, err := k.Public().Verifier()
		if err != nil {
			b.Fatal(err)
		}
		km := root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) {
			return root.NewExpiringKey(pv, time.Time{}, time.Time{}), nil
		})
		v, err := verify.NewVerifier(root.TrustedMaterialCollection{tr, km}, verify.WithTransparencyLog(1), verify.WithSignedTimestamps(1))
		if err != nil {
			b.Fatal(err)
		}
		var lat []time.Duration
		start := time.Now()
		for b.Loop() {
			t0 := time.Now()
			var sb bundle.Bundle
			if err := sb.UnmarshalJSON(raw); err != nil {
				b.Fatal(err)
			}
			if _, err := v.Verify(&sb, verify.NewPolicy(verify.WithoutArtifactUnsafe(), verify.WithKey())); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
		}
		report(b, lat, time.Since(start))
	})
}
