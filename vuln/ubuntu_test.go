package vuln_test

import (
	"slices"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/vuln"
	"github.com/hallmark-dev/hallmark/vuln/osvdb"
)

// TestUbuntuReleaseVariants matches packages against Canonical's OSV
// record for CVE-2022-37434 (testdata/ubuntu, unchanged), whose entries
// name "Ubuntu:22.04:LTS" and "Ubuntu:Pro:16.04:LTS": a package of
// "Ubuntu:22.04" (as image scans name it, from os-release) meets the
// 22.04 entry and no other release's, with Ubuntu's version ordering.
func TestUbuntuReleaseVariants(t *testing.T) {
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	if _, err := osvdb.Import(t.Context(), dir, "testdata/ubuntu", now); err != nil {
		t.Fatalf("Import: %v", err)
	}
	db, err := osvdb.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, tc := range []struct {
		eco, version string
		fixed        []string // nil: not affected
	}{
		{"Ubuntu:22.04", "1:1.2.11.dfsg-2ubuntu9", []string{"1:1.2.11.dfsg-2ubuntu9.2"}},
		{"Ubuntu:22.04:LTS", "1:1.2.11.dfsg-2ubuntu9.1", []string{"1:1.2.11.dfsg-2ubuntu9.2"}},
		{"Ubuntu:22.04", "1:1.2.11.dfsg-2ubuntu9.2", nil},
		{"Ubuntu:22.04", "1:1.2.11.dfsg-2ubuntu9.2~rc1", []string{"1:1.2.11.dfsg-2ubuntu9.2"}}, // tilde sorts before
		{"Ubuntu:16.04", "1:1.2.8.dfsg-2ubuntu4.3+esm1", []string{"1:1.2.8.dfsg-2ubuntu4.3+esm2"}},
		{"Ubuntu:Pro:16.04:LTS", "1:1.2.8.dfsg-2ubuntu4.3+esm2", nil},
		{"Ubuntu:24.04", "1:1.2.11.dfsg-2ubuntu9", nil}, // the record names no 24.04 zlib
		{"Debian:12", "1:1.2.11.dfsg-2ubuntu9", nil},
	} {
		rep, err := scanOne(t, db, now, vuln.Package{Ecosystem: tc.eco, Name: "zlib", Version: tc.version})
		if err != nil && tc.eco != "Debian:12" {
			t.Errorf("%s zlib %s: %v", tc.eco, tc.version, err)
			continue
		}
		var got []string
		for _, f := range rep.Findings {
			if f.ID != "CVE-2022-37434" {
				t.Errorf("%s zlib %s: unexpected finding %s", tc.eco, tc.version, f.ID)
			}
			got = f.FixedVersions
		}
		if len(rep.Findings) > 1 || !slices.Equal(got, tc.fixed) || (tc.fixed != nil) != (len(rep.Findings) == 1) {
			t.Errorf("%s zlib %s: %d findings, fixed %v; want fixed %v", tc.eco, tc.version, len(rep.Findings), got, tc.fixed)
		}
	}
}
