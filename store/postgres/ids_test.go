package postgres_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/store/postgres"
)

// TestListIDsReadsIndexesOnly: listing the IDs of a subject's evidence
// other than the gate's own records finds the subject's rows with an
// index-only scan of subjects_digest, which carries their IDs, and never
// reads the evidence table whole; reading the bundles the cache lacks
// searches the primary key.
func TestListIDsReadsIndexesOnly(t *testing.T) {
	s := open(t, time.Now).(*postgres.Store)
	k := attesttest.Key(t, keys.Ed25519)
	// Enough records that the planner's choice is the one a real store
	// gets: with a few dozen rows it may merge-join the whole primary key.
	var vs []*attest.Verified
	for i := range 300 {
		sub := attesttest.Subject(fmt.Sprint("app-", i), []byte(fmt.Sprint("artifact ", i)))
		vs = append(vs, attesttest.Verified(t, k, "https://example.com/sbom", map[string]any{"n": i}, sub),
			attesttest.Verified(t, k, "https://example.com/decision", map[string]any{"n": i}, sub))
	}
	if _, err := s.PutAll(t.Context(), vs); err != nil {
		t.Fatal(err)
	}
	if err := s.Compact(t.Context()); err != nil { // statistics, and the visibility map an index-only scan needs
		t.Fatal(err)
	}
	subject := attesttest.Digest(attesttest.Subject("app-3", []byte("artifact 3")))
	p, err := s.ExplainListIDs(t.Context(), store.Query{Subject: subject, ExcludePredicateTypes: []string{"https://example.com/decision"}})
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(p.Text, "\n")
	if !strings.Contains(text, "Index Only Scan using subjects_digest") || p.Scans("evidence") {
		t.Errorf("ListIDs by subject does not read subjects_digest alone:\n%s", text)
	}
	p, err = s.ExplainBundles(t.Context(), []string{vs[0].ID, vs[5].ID})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Uses("evidence_pkey") || p.Scans("evidence") {
		t.Errorf("Bundles does not read records by ID:\n%s", strings.Join(p.Text, "\n"))
	}
}
