package vuln_test

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/vuln"
	"github.com/hallmark-dev/hallmark/vuln/osv"
)

// FuzzScan feeds arbitrary records and versions through the matcher: bad
// input must never panic, whatever the ecosystem's version parser makes
// of it.
func FuzzScan(f *testing.F) {
	for _, s := range []struct{ file, eco, name, version string }{
		{"testdata/osv/debian/DSA-5218-1.json", "Debian:11", "zlib", "1:1.2.11.dfsg-2+deb11u1"},
		{"testdata/osv/pypi/PYSEC-2023-74.json", "PyPI", "requests", "2.31.0rc1"},
		{"testdata/osv/maven/GHSA-57j2-w4cx-62h2.json", "Maven", "com.fasterxml.jackson.core:jackson-databind", "2.13.0-rc1"},
		{"testdata/osv/alpine/ALPINE-CVE-2022-2097.json", "Alpine:v3.16", "openssl", "1.1.1q_rc1-r0"},
		{"testdata/osv/rubygems/GHSA-hxqx-xwvh-44m2.json", "RubyGems", "rack", "2.2.0.rc1"},
	} {
		b, err := os.ReadFile(s.file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, s.eco, s.name, s.version)
	}
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	lim := osv.Limits{MaxBytes: 1 << 16, MaxAffected: 16, MaxEvents: 64, MaxVersions: 64}
	f.Fuzz(func(t *testing.T, record []byte, eco, name, version string) {
		e, err := osv.Decode(bytes.NewReader(record), "fuzz", lim)
		if err != nil {
			return
		}
		s, err := vuln.NewScanner(newMemDB(now, e), vuln.WithClock(func() time.Time { return now }))
		if err != nil {
			t.Fatal(err)
		}
		rep, _ := s.Scan(t.Context(), []vuln.Package{{Ecosystem: eco, Name: name, Version: version, Commit: version}})
		if rep == nil {
			t.Fatal("nil report")
		}
	})
}
