package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/policy"
)

func benchReview(digest string, n int) string {
	return fmt.Sprintf(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u%d","kind":{"group":"","version":"v1","kind":"Pod"},`+
		`"namespace":"payments","name":"p","operation":"CREATE","object":{"spec":{"containers":[{"name":"c","image":"r/a@%s"}]}}}}`, n, digest)
}

// BenchmarkAdmission compares, in one run, the mutate endpoint on a pinned
// pod (decoding only, nothing to resolve: the baseline), a cache hit and a cache miss (gate evaluation over
// ten stored bundles, two signed records stored) on SQLite, in process.
func BenchmarkAdmission(b *testing.B) {
	w := newWorld(b)
	cfg := testConfig(b, "")
	st := openSQLite(b)
	pols, err := policy.LoadSpecs(b.Context(), cfg.Policies)
	if err != nil {
		b.Fatal(err)
	}
	g, _ := gate.New(st, w.trust, pols, w.gateKey)
	s, err := New(cfg, st, w.trust, g)
	if err != nil {
		b.Fatal(err)
	}
	h := s.Handler()
	const artifacts = 4000
	digest := func(i int) string { return fmt.Sprintf("sha256:%064x", i) }
	for i := range artifacts {
		put := func(raw []byte) {
			v, err := attest.Verify(b.Context(), raw, w.trust.All())
			if err != nil {
				b.Fatal(err)
			}
			if _, err := st.Put(b.Context(), v); err != nil {
				b.Fatal(err)
			}
		}
		put(approval(b, w.approver, digest(i), "prod", ""))
		for j := range 9 {
			put(criticalVulnLow(b, w, digest(i), fmt.Sprintf("GHSA-%d-%d", i, j)))
		}
	}
	post := func(path, body string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequestWithContext(context.Background(), http.MethodPost, path, strings.NewReader(body)))
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"allowed":true`) {
			b.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
		}
	}
	b.Run("baseline-mutate", func(b *testing.B) {
		n := 0
		for b.Loop() {
			post("/admission/mutate", benchReview(digest(0), n))
			n++
		}
	})
	b.Run("hit", func(b *testing.B) {
		post("/admission/validate", benchReview(digest(0), 0))
		n := 0
		for b.Loop() {
			post("/admission/validate", benchReview(digest(0), n))
			n++
		}
	})
	next := atomic.Int64{}
	next.Store(1)
	miss := func(b *testing.B) {
		n := int(next.Add(1))
		if n >= artifacts {
			b.Fatal("ran out of artifacts")
		}
		post("/admission/validate", benchReview(digest(n), n))
	}
	b.Run("miss", func(b *testing.B) {
		for b.Loop() {
			miss(b)
		}
	})
	// Concurrent misses: the gate's records commit together.
	b.Run("miss-parallel", func(b *testing.B) {
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				miss(b)
			}
		})
	})
}
