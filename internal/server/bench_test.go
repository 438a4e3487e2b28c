package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/internal/benchcpu"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/store/postgres"
	"github.com/hallmark-dev/hallmark/store/postgres/pgtest"
)

func benchReview(digest string, n int) string {
	return fmt.Sprintf(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u%d","kind":{"group":"","version":"v1","kind":"Pod"},`+
		`"namespace":"payments","name":"p","operation":"CREATE","object":{"spec":{"containers":[{"name":"c","image":"r/a@%s"}]}}}}`, n, digest)
}

// cpuPerOp reports the process CPU time spent inside measured calls per
// operation ("cpu-ms/op"): what bounds the reviews a server can sustain,
// steadier than wall time on a shared machine.
type cpuPerOp struct {
	spent time.Duration
	n     int
}

func (c *cpuPerOp) measure(b *testing.B, f func()) {
	c0 := benchcpu.Process(b)
	f()
	c.spent += benchcpu.Process(b) - c0
	c.n++
}

func (c *cpuPerOp) report(b *testing.B) {
	b.ReportMetric(float64(c.spent)/float64(time.Millisecond)/float64(c.n), "cpu-ms/op")
}

// BenchmarkAdmission compares, in one run on SQLite in process, the
// mutate endpoint on a pinned pod (decoding only, nothing to resolve: the
// baseline), a cache hit, and cache misses: gate evaluations over ten
// stored bundles, each recording a signed VSA and decision.
//
// "miss" is the steady state of a server: each artifact's evidence was
// uploaded through POST /v1/bundles (verified there once, outside the
// timer) before its first review, and the gate runs with the server's
// default verification cache. "miss-cold" reviews artifacts whose evidence
// was written to the store directly (or evicted from the cache), so every
// bundle is verified and decoded during the review.
//
// It runs on SQLite and on PostgreSQL (pgtest: HALLMARK_TEST_POSTGRES=skip
// skips it).
func BenchmarkAdmission(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchAdmission(b, openSQLite(b)) })
	b.Run("postgres", func(b *testing.B) {
		st, err := postgres.Open(b.Context(), pgtest.FreshSchema(b))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		benchAdmission(b, st)
	})
}

func benchAdmission(b *testing.B, st store.Store) {
	w := newWorld(b)
	cfg := testConfig(b, "")
	pols, err := policy.LoadSpecs(b.Context(), cfg.Policies)
	if err != nil {
		b.Fatal(err)
	}
	g, err := gate.New(st, w.trust, pols, w.gateKey, gate.WithVerifiedCache(DefaultVerifiedCacheMiB<<20))
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(cfg, st, w.trust, g)
	if err != nil {
		b.Fatal(err)
	}
	h := s.Handler()
	const artifacts = 4000
	digest := func(i int) string { return fmt.Sprintf("sha256:%064x", i) }
	evidence := func(i int) [][]byte {
		out := [][]byte{approval(b, w.approver, digest(i), "prod", "")}
		for j := range 9 {
			out = append(out, criticalVulnLow(b, w, digest(i), fmt.Sprintf("GHSA-%d-%d", i, j)))
		}
		return out
	}
	uploaded := make([][][]byte, artifacts) // evidence signed now, uploaded before the review
	for i := range artifacts {
		if i%2 == 0 {
			uploaded[i] = evidence(i)
			continue
		}
		for _, raw := range evidence(i) {
			v, err := attest.Verify(b.Context(), raw, w.trust.All())
			if err != nil {
				b.Fatal(err)
			}
			if _, err := st.Put(b.Context(), v); err != nil {
				b.Fatal(err)
			}
		}
	}
	serve := func(path, token, body string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		h.ServeHTTP(rec, req)
		return rec
	}
	post := func(path, body string) {
		if rec := serve(path, "", body); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"allowed":true`) {
			b.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
		}
	}
	upload := func(i int) {
		for _, raw := range uploaded[i] {
			if rec := serve("/v1/bundles", uploaderToken, string(raw)); rec.Code != http.StatusCreated {
				b.Fatalf("upload for artifact %d: %d %s", i, rec.Code, rec.Body)
			}
		}
	}
	upload(0)
	b.Run("baseline-mutate", func(b *testing.B) {
		var cpu cpuPerOp
		n := 0
		for b.Loop() {
			cpu.measure(b, func() { post("/admission/mutate", benchReview(digest(0), n)) })
			n++
		}
		cpu.report(b)
	})
	b.Run("hit", func(b *testing.B) {
		post("/admission/validate", benchReview(digest(0), 0))
		var cpu cpuPerOp
		n := 0
		for b.Loop() {
			cpu.measure(b, func() { post("/admission/validate", benchReview(digest(0), n)) })
			n++
		}
		cpu.report(b)
	})
	// next hands out artifacts of one parity: even ones are uploaded
	// through the server, odd ones are in the store only.
	nextWarm, nextCold := atomic.Int64{}, atomic.Int64{}
	nextWarm.Store(0)
	nextCold.Store(-1)
	next := func(b *testing.B, c *atomic.Int64) int {
		n := int(c.Add(2))
		if n >= artifacts {
			b.Fatal("ran out of artifacts")
		}
		return n
	}
	b.Run("miss", func(b *testing.B) {
		var cpu cpuPerOp
		for b.Loop() {
			b.StopTimer()
			n := next(b, &nextWarm)
			upload(n)
			b.StartTimer()
			cpu.measure(b, func() { post("/admission/validate", benchReview(digest(n), n)) })
		}
		cpu.report(b)
	})
	b.Run("miss-cold", func(b *testing.B) {
		var cpu cpuPerOp
		for b.Loop() {
			n := next(b, &nextCold)
			cpu.measure(b, func() { post("/admission/validate", benchReview(digest(n), n)) })
		}
		cpu.report(b)
	})
	// Concurrent cold misses: the gate's records commit together.
	// cpu-ms/op is the process's CPU over the run per review.
	b.Run("miss-cold-parallel", func(b *testing.B) {
		b.SetParallelism(4)
		c0 := benchcpu.Process(b)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				n := next(b, &nextCold)
				post("/admission/validate", benchReview(digest(n), n))
			}
		})
		benchcpu.ReportSince(b, c0, b.N)
	})
}
