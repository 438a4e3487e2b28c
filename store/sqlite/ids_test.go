package sqlite_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/store/sqlite"
)

// TestListIDsReadsIndexesOnly: listing the IDs of a subject's evidence
// other than the gate's own records reads the subject's rows from
// subjects_digest alone (a covering index) and finds each record through
// the primary key, never a bundle; reading the bundles the cache lacks
// searches the primary key.
func TestListIDsReadsIndexesOnly(t *testing.T) {
	s := open(t, time.Now).(*sqlite.Store)
	k := attesttest.Key(t, keys.Ed25519)
	var vs []*attest.Verified
	for i := range 20 {
		sub := attesttest.Subject(fmt.Sprint("app-", i), []byte(fmt.Sprint("artifact ", i)))
		vs = append(vs, attesttest.Verified(t, k, "https://example.com/sbom", map[string]any{"n": i}, sub),
			attesttest.Verified(t, k, "https://example.com/decision", map[string]any{"n": i}, sub))
	}
	if _, err := s.PutAll(t.Context(), vs); err != nil {
		t.Fatal(err)
	}
	subject := attesttest.Digest(attesttest.Subject("app-3", []byte("artifact 3")))
	p, err := s.ExplainListIDs(t.Context(), store.Query{Subject: subject, ExcludePredicateTypes: []string{"https://example.com/decision"}})
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(p.Text, "\n")
	if !strings.Contains(text, "SEARCH subjects USING COVERING INDEX subjects_digest (alg=? AND digest=?)") || len(p.FullScans) > 0 {
		t.Errorf("ListIDs by subject does not read subjects_digest alone:\n%s", text)
	}
	if !p.Uses("sqlite_autoindex_evidence_1") {
		t.Errorf("ListIDs by subject does not find records by ID:\n%s", text)
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
