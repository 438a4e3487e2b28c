package osvdb_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hallmark-dev/hallmark/vuln/osvdb"
)

// copyFixtures copies the fixture records into a new directory, leaving
// out the files named in skip (relative to fixtures).
func copyFixtures(t *testing.T, skip ...string) string {
	t.Helper()
	dst := t.TempDir()
	files, err := filepath.Glob(filepath.Join(fixtures, "*", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, p := range files {
		rel, _ := filepath.Rel(fixtures, p)
		if contains(skip, filepath.ToSlash(rel)) {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dst, filepath.Dir(rel)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, rel), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// TestChangesSince: each import logs which packages its added, modified
// or removed records affect; the first import of an ecosystem has nothing
// to compare with and counts as full.
func TestChangesSince(t *testing.T) {
	dbDir := t.TempDir()
	t1, t2, t3, t4 := now, now.Add(time.Hour), now.Add(2*time.Hour), now.Add(3*time.Hour)
	changes := func(since time.Time) osvdb.Changes {
		t.Helper()
		db, err := osvdb.Open(dbDir)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		c, err := db.ChangesSince(since)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// Day one lacks GO-2023-2044 (a Go standard library advisory).
	if _, err := osvdb.Import(t.Context(), dbDir, copyFixtures(t, "go/GO-2023-2044.json"), t1); err != nil {
		t.Fatal(err)
	}
	all := []string{"Alpine", "Debian", "Go", "Maven", "PyPI", "RubyGems", "crates.io", "npm"}
	if diff := cmp.Diff(osvdb.Changes{Imports: 8, Full: all, Packages: map[string][]string{}}, changes(t1.Add(-time.Second))); diff != "" {
		t.Errorf("first import (-want +got):\n%s", diff)
	}
	// The next import brings it: only the Go "stdlib" package changed.
	if _, err := osvdb.Import(t.Context(), dbDir, fixtures, t2); err != nil {
		t.Fatal(err)
	}
	want := osvdb.Changes{Imports: 8, Packages: map[string][]string{"Go": {"stdlib"}}}
	if diff := cmp.Diff(want, changes(t1)); diff != "" {
		t.Errorf("after adding one record (-want +got):\n%s", diff)
	}
	// The same data again changes nothing.
	if _, err := osvdb.Import(t.Context(), dbDir, fixtures, t3); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(osvdb.Changes{Imports: 8, Packages: map[string][]string{}}, changes(t2)); diff != "" {
		t.Errorf("after an identical import (-want +got):\n%s", diff)
	}
	// Since t1 still includes t2's change.
	if got := changes(t1).Packages["Go"]; !cmp.Equal(got, []string{"stdlib"}) {
		t.Errorf("changes since t1: %v", got)
	}
	// A record that disappears (DSA-5218-1, Debian's zlib) changes the
	// packages it affected.
	if _, err := osvdb.Import(t.Context(), dbDir, copyFixtures(t, "debian/DSA-5218-1.json"), t4); err != nil {
		t.Fatal(err)
	}
	got := changes(t3)
	if !cmp.Equal(got.Packages["Debian"], []string{"zlib"}) || len(got.Full) != 0 || len(got.Packages) != 1 {
		t.Errorf("after removing a Debian record: %+v", got)
	}
}
