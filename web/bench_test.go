package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/finding"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/store/sqlite"
	"github.com/hallmark-dev/hallmark/trust"
	"github.com/hallmark-dev/hallmark/vuln"
)

// BenchmarkPages renders each page over a store of benchArtifacts
// artifacts with an SBOM, a vulnerability scan, a misconfig scan and a
// decision each (4 records per artifact), and reports the time relative to
// the baseline of the same run: reading the records the page reads
// (store.List, bundles included) without decoding or rendering anything.
func BenchmarkPages(b *testing.B) {
	const benchArtifacts = 1000
	ctx := b.Context()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), sqlite.WithClock(func() time.Time { now = now.Add(time.Millisecond); return now }))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	key := attesttest.Key(b, keys.ECDSAP256)
	tr := trust.New(trust.Key{Name: "gate", Public: key.Public(), Roles: []trust.Role{trust.RoleGate}})
	var first string
	for i := range benchArtifacts {
		sub := attesttest.Subject(fmt.Sprintf("bin/app-%d", i), fmt.Appendf(nil, "artifact %d", i))
		dg := "sha256:" + sub.Digest["sha256"]
		if i == 0 {
			first = dg
		}
		for _, e := range []struct {
			pt   string
			pred any
		}{
			{gate.CycloneDXPredicateType, cycloneDXPredicate(b, now, 3)},
			{vuln.PredicateType, vulnPredicate(now)},
			{finding.PredicateType, finding.NewPredicate(finding.KindMisconfig, finding.Scanner{Name: "m"}, "Dockerfile", now, []finding.Finding{{RuleID: "HM-DF-001", Severity: finding.SeverityHigh, Location: finding.Location{Path: "Dockerfile", Line: 1}}})},
			{gate.DecisionPredicateType, gate.Decision{Artifact: policy.Artifact{Digest: digest.MustParse(dg), Name: sub.Name}, Environment: []string{"dev", "staging", "prod"}[i%3], Allowed: i%2 == 0, DecidedAt: now, Requester: "ci", Source: "cli"}},
		} {
			if _, err := st.Put(ctx, attesttest.Verified(b, key, e.pt, e.pred, sub)); err != nil {
				b.Fatal(err)
			}
		}
	}
	h, err := New(st, tr, WithClock(func() time.Time { return now }))
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range []struct {
		name, path string
		reads      []store.Query
	}{
		{"artifacts", "/ui/", []store.Query{{}}},
		{"artifact", "/ui/artifacts/" + first, []store.Query{{Subject: digest.MustParse(first)}}},
		{"deployments", "/ui/deployments", []store.Query{{PredicateType: gate.DecisionPredicateType}}},
		{"findings", "/ui/findings?severity=high", []store.Query{{PredicateType: vuln.PredicateType}, {PredicateType: finding.PredicateType}}},
	} {
		b.Run(p.name, func(b *testing.B) {
			// The baseline, measured in the same run before the timed loop
			// (b.Loop starts the timer on its first call). testing.Benchmark
			// cannot be nested in a running benchmark.
			const baseRuns = 5
			start := time.Now()
			for range baseRuns {
				for _, q := range p.reads {
					q.Limit = DefaultMaxRecords + 1
					if _, err := st.List(ctx, q); err != nil {
						b.Fatal(err)
					}
				}
			}
			baseline := time.Since(start) / baseRuns
			size := 0
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, p.path, nil))
				if rec.Code != http.StatusOK {
					b.Fatalf("GET %s: %d", p.path, rec.Code)
				}
				size = rec.Body.Len()
			}
			b.ReportMetric(float64(size), "bytes/page")
			b.ReportMetric(float64(baseline.Microseconds())/1e3, "baseline-ms")
			b.ReportMetric(float64(b.Elapsed())/float64(b.N)/float64(baseline), "x-baseline")
		})
	}
}
