package sqlite_test

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/internal/benchcpu"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/store/sqlite"
)

// TestListIDsReadsIndexesOnly: listing the IDs of a subject's evidence
// other than the gate's own records reads one range of the subjects
// table (keyed by digest, time and record ID, holding each record's
// type: migrations 6 and 9) and nothing of the evidence table, neither
// its rows nor its primary key, and needs no sort; reading the bundles
// the cache lacks searches the primary key.
func TestListIDsReadsIndexesOnly(t *testing.T) {
	s := open(t, time.Now).(*sqlite.Store)
	vs := putApps(t, s, 20, "https://example.com/sbom", "https://example.com/decision")
	subject := attesttest.Digest(attesttest.Subject("app-3", []byte("artifact 3")))
	p, err := s.ExplainListIDs(t.Context(), store.Query{Subject: subject, ExcludePredicateTypes: []string{"https://example.com/decision"}})
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(p.Text, "\n")
	if !strings.Contains(text, "SEARCH subjects USING PRIMARY KEY (alg=? AND digest=?)") || len(p.FullScans) > 0 {
		t.Errorf("ListIDs by subject does not read one range of the subjects table alone:\n%s", text)
	}
	if p.Uses("sqlite_autoindex_evidence_1") || strings.Contains(text, "evidence") || strings.Contains(text, "TEMP B-TREE") {
		t.Errorf("ListIDs by subject reads more than the subjects table:\n%s", text)
	}
	p, err = s.ExplainBundles(t.Context(), []string{vs[0].ID, vs[5].ID})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Uses("sqlite_autoindex_evidence_1") || p.Scans("evidence") {
		t.Errorf("Bundles does not read records by ID:\n%s", strings.Join(p.Text, "\n"))
	}
}

// BenchmarkListIDs compares, on one store, what an admission miss reads
// of an artifact's evidence (ten records and four of the gate's own):
// every record with List, or the IDs alone with ListIDs.
func BenchmarkListIDs(b *testing.B) {
	s, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "evidence.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	k := attesttest.Key(b, keys.Ed25519)
	const artifacts = 200
	subject := func(i int) attest.Subject {
		return attesttest.Subject(fmt.Sprint("app-", i), fmt.Appendf(nil, "artifact %d", i))
	}
	for i := range artifacts {
		var vs []*attest.Verified
		for j := range 14 {
			typ := fmt.Sprintf("https://example.com/p%d/v1", j)
			if j >= 10 {
				typ = "https://example.com/decision"
			}
			vs = append(vs, attesttest.Verified(b, k, typ, map[string]any{"i": i, "j": j, "pad": strings.Repeat("x", 2000)}, subject(i)))
		}
		if _, err := s.PutAll(b.Context(), vs); err != nil {
			b.Fatal(err)
		}
	}
	q := func(i int) store.Query {
		return store.Query{Subject: attesttest.Digest(subject(i % artifacts)), ExcludePredicateTypes: []string{"https://example.com/decision"}}
	}
	b.Run("List", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if recs, err := s.List(b.Context(), q(i)); err != nil || len(recs) != 10 {
				b.Fatalf("List: %d records, %v", len(recs), err)
			}
			i += 7
		}
	})
	b.Run("ListIDs", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if ids, err := s.ListIDs(b.Context(), q(i)); err != nil || len(ids) != 10 {
				b.Fatalf("ListIDs: %d IDs, %v", len(ids), err)
			}
			i += 7
		}
	})
}

// BenchmarkListIDsAfterWrite measures what an admission miss's listing
// costs on a busy server, where another connection has committed since
// the listing connection's last read: SQLite then empties that
// connection's page cache, and every page the listing needs is fetched
// and parsed again. Each iteration stores an unrelated VSA and decision,
// then lists one artifact's ten records; cpu-ms/op is the listing's own
// CPU (benchcpu.Thread). Listing through the evidence table (schema 5)
// took 0.14-0.17 ms, one range of subjects_digest (schema 6) 0.094-0.100
// (four alternating pairs on a quiet machine).
func BenchmarkListIDsAfterWrite(b *testing.B) {
	s, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "evidence.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	k := attesttest.Key(b, keys.Ed25519)
	subject := func(i int) attest.Subject {
		return attesttest.Subject(fmt.Sprint("app-", i), []byte(fmt.Sprint("artifact ", i)))
	}
	const artifacts = 2000
	var batch []*attest.Verified
	for i := range artifacts * 10 {
		batch = append(batch, attesttest.Verified(b, k, fmt.Sprintf("https://example.com/p%d", i%10), map[string]any{"n": i}, subject(i/10)))
		if len(batch) == 1000 {
			if _, err := s.PutAll(b.Context(), batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	const vsa, decision = "https://example.com/vsa", "https://example.com/decision"
	writes := make([][]*attest.Verified, 2000)
	for i := range writes {
		sub := subject(artifacts + i)
		writes[i] = []*attest.Verified{attesttest.Verified(b, k, vsa, map[string]any{"n": i}, sub),
			attesttest.Verified(b, k, decision, map[string]any{"n": i}, sub)}
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var spent time.Duration
	n := 0
	for b.Loop() {
		if _, err := s.PutAll(b.Context(), writes[n%len(writes)]); err != nil {
			b.Fatal(err)
		}
		q := store.Query{Subject: attesttest.Digest(subject(n % artifacts)), ExcludePredicateTypes: []string{vsa, decision}}
		c0 := benchcpu.Thread(b)
		ids, err := s.ListIDs(b.Context(), q)
		spent += benchcpu.Thread(b) - c0
		if err != nil || len(ids) != 10 {
			b.Fatalf("ListIDs: %d IDs, %v; want 10", len(ids), err)
		}
		n++
	}
	b.ReportMetric(float64(spent)/float64(time.Millisecond)/float64(n), "cpu-ms/op")
}

// TestListInStoredOrderWalksTimeIndex: a listing of all records in their
// order, up to a limit (the server's /healthz lists one), reads
// evidence_time in order from one end (or from a time) and stops at the
// limit; on an index of the
// time alone SQLite read and sorted the whole table for it, which took
// 0.22 s at 100,000 records.
func TestListInStoredOrderWalksTimeIndex(t *testing.T) {
	s := open(t, time.Now).(*sqlite.Store)
	putApps(t, s, 20, "https://example.com/sbom")
	for _, q := range []store.Query{{Limit: 1}, {Newest: true, Until: time.Now(), Limit: 1}} {
		p, err := s.ExplainList(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		plan := strings.Join(p.Text, "\n")
		if p.Scans("evidence") || !(p.Walk("evidence_time") || p.Uses("evidence_time")) || strings.Contains(plan, "TEMP B-TREE") {
			t.Errorf("List(%+v) does not read evidence_time in order:\n%s", q, plan)
		}
	}
}

// putApps stores, for each of n artifacts "app-I", one record of each
// predicate type, and returns them in that order.
func putApps(t *testing.T, s *sqlite.Store, n int, predicateTypes ...string) []*attest.Verified {
	t.Helper()
	k := attesttest.Key(t, keys.Ed25519)
	var vs []*attest.Verified
	for i := range n {
		sub := attesttest.Subject(fmt.Sprint("app-", i), []byte(fmt.Sprint("artifact ", i)))
		for _, pt := range predicateTypes {
			vs = append(vs, attesttest.Verified(t, k, pt, map[string]any{"n": i}, sub))
		}
	}
	if _, err := s.PutAll(t.Context(), vs); err != nil {
		t.Fatal(err)
	}
	return vs
}
