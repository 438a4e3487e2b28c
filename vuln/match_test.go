package vuln_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hallmark-dev/hallmark/finding"
	"github.com/hallmark-dev/hallmark/vuln"
	"github.com/hallmark-dev/hallmark/vuln/osv"
	"github.com/hallmark-dev/hallmark/vuln/osvdb"
)

// fixtureDB imports testdata/osv (records from published advisories) into
// a fresh database.
func fixtureDB(t *testing.T, now time.Time) *osvdb.DB {
	t.Helper()
	dir := t.TempDir()
	if _, err := osvdb.Import(t.Context(), dir, "testdata/osv", now); err != nil {
		t.Fatalf("Import: %v", err)
	}
	db, err := osvdb.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func scanOne(t *testing.T, db vuln.Database, now time.Time, p vuln.Package) (*vuln.Report, error) {
	t.Helper()
	s, err := vuln.NewScanner(db, vuln.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	return s.Scan(t.Context(), []vuln.Package{p})
}

// findingIDs returns, per finding, its merged record IDs.
func findingIDs(rep *vuln.Report) [][]string {
	var out [][]string
	for _, f := range rep.Findings {
		out = append(out, f.IDs)
	}
	return out
}

func TestRealAdvisoryBoundaries(t *testing.T) {
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	db := fixtureDB(t, now)
	lodash := []string{"GHSA-jf85-cpcp-j695"}
	minimist := []string{"GHSA-xvch-5gv4-984h"}
	requests := []string{"GHSA-j8r2-6x86-q33q", "PYSEC-2023-74"}
	jackson := []string{"GHSA-57j2-w4cx-62h2"}
	smallvec := []string{"RUSTSEC-2021-0003"}
	rack := []string{"GHSA-hxqx-xwvh-44m2"}
	zlib := []string{"DSA-5218-1"}
	openssl := []string{"DSA-5103-1"}
	alpine := []string{"ALPINE-CVE-2022-2097"}
	xtext := []string{"GO-2021-0113"}
	for _, tc := range []struct {
		eco, name, version string
		want               []string
	}{
		// npm, ECOSYSTEM range [0, 4.17.12).
		{"npm", "lodash", "0.1.0", lodash},
		{"npm", "lodash", "4.17.11", lodash},
		{"npm", "lodash", "4.17.12-beta.1", lodash}, // a pre-release sorts before its release
		{"npm", "lodash", "4.17.12", nil},
		{"npm", "lodash", "4.17.21", nil},
		// npm, two affected entries [0, 0.2.4) and [1.0.0, 1.2.6).
		{"npm", "minimist", "0.2.3", minimist},
		{"npm", "minimist", "0.2.4", nil},
		{"npm", "minimist", "0.9.9", nil},
		{"npm", "minimist", "1.0.0", minimist},
		{"npm", "minimist", "1.2.5", minimist},
		{"npm", "minimist", "1.2.6", nil},
		// PyPI [2.3.0, 2.31.0), GHSA and PYSEC merged through aliases; PEP 440 ordering.
		{"PyPI", "requests", "2.2.1", nil},
		{"PyPI", "requests", "2.3.0a1", nil}, // pre-release of the introducing version
		{"PyPI", "requests", "2.3.0", requests},
		{"PyPI", "requests", "2.30.0", requests},
		{"PyPI", "requests", "2.31.0rc1", requests},
		{"PyPI", "requests", "2.31.0", nil},
		{"PyPI", "requests", "2.31.0.post1", nil},
		{"PyPI", "Requests", "2.28.0", requests}, // PEP 503 name normalisation
		// Maven [0, 2.12.6.1) and [2.13.0, 2.13.2.1); qualifiers.
		{"Maven", "com.fasterxml.jackson.core:jackson-databind", "2.12.6", jackson},
		{"Maven", "com.fasterxml.jackson.core:jackson-databind", "2.12.6.1", nil},
		{"Maven", "com.fasterxml.jackson.core:jackson-databind", "2.12.7", nil},
		{"Maven", "com.fasterxml.jackson.core:jackson-databind", "2.13.0-rc1", nil}, // rc sorts before 2.13.0
		{"Maven", "com.fasterxml.jackson.core:jackson-databind", "2.13.0", jackson},
		{"Maven", "com.fasterxml.jackson.core:jackson-databind", "2.13.2", jackson},
		{"Maven", "com.fasterxml.jackson.core:jackson-databind", "2.13.2.1", nil},
		// crates.io, one SEMVER range with two introduced/fixed pairs.
		{"crates.io", "smallvec", "0.6.2", nil},
		{"crates.io", "smallvec", "0.6.3", smallvec},
		{"crates.io", "smallvec", "0.6.13", smallvec},
		{"crates.io", "smallvec", "0.6.14", nil},
		{"crates.io", "smallvec", "0.9.0", nil},
		{"crates.io", "smallvec", "1.0.0", smallvec},
		{"crates.io", "smallvec", "1.6.0", smallvec},
		{"crates.io", "smallvec", "1.6.1", nil},
		// RubyGems, three ranges; ".rc1" is a pre-release.
		{"RubyGems", "rack", "2.0.9", rack},
		{"RubyGems", "rack", "2.0.9.1", nil},
		{"RubyGems", "rack", "2.1.0", rack},
		{"RubyGems", "rack", "2.1.4.1", nil},
		{"RubyGems", "rack", "2.2.0.rc1", nil},
		{"RubyGems", "rack", "2.2.3", rack},
		{"RubyGems", "rack", "2.2.3.1", nil},
		// Debian: epochs, tildes and release suffixes.
		{"Debian:11", "zlib", "1:1.2.11.dfsg-2+deb11u1", zlib},
		{"Debian:11", "zlib", "1:1.2.11.dfsg-2+deb11u2", nil},
		{"Debian:11", "zlib", "1.2.13.dfsg-1", zlib},  // epoch 0 sorts below epoch 1
		{"Debian:10", "zlib", "1:1.2.11.dfsg-1", nil}, // the record only names bullseye
		{"Debian:11", "openssl", "1.1.1k-1+deb11u1", openssl},
		{"Debian:11", "openssl", "1.1.1k-1+deb11u2~1", openssl}, // tilde sorts before
		{"Debian:11", "openssl", "1.1.1k-1+deb11u2", nil},
		{"Debian:10", "openssl", "1.1.1d-0+deb10u7", openssl},
		{"Debian:10", "openssl", "1.1.1d-0+deb10u8", nil},
		// Alpine.
		{"Alpine:v3.16", "openssl", "1.1.1o-r0", alpine},
		{"Alpine:v3.16", "openssl", "1.1.1p-r0", alpine},
		{"Alpine:v3.16", "openssl", "1.1.1q-r0", nil},
		{"Alpine:v3.16", "openssl", "1.1.1q-r1", nil},
		// Go, with and without the "v" prefix.
		{"Go", "golang.org/x/text", "v0.3.6", xtext},
		{"Go", "golang.org/x/text", "0.3.6", xtext},
		{"Go", "golang.org/x/text", "v0.3.7", nil},
		{"Go", "golang.org/x/text", "v0.0.0-20210225000000-abcdefabcdef", xtext}, // pseudo-version
		{"Go", "k8s.io/kubernetes", "v1.20.0", nil},                              // GO-2022-0617 is withdrawn
		// Go toolchain versions for the standard library; [1.21.0-0, 1.21.1).
		{"Go", "stdlib", "go1.20.7", nil},
		{"Go", "stdlib", "go1.21rc2", []string{"GO-2023-2044"}},
		{"Go", "stdlib", "go1.21.0", []string{"GO-2023-2044"}},
		{"Go", "stdlib", "1.21.0", []string{"GO-2023-2044"}},
		{"Go", "stdlib", "go1.21.1", nil},
	} {
		t.Run(tc.eco+"/"+tc.name+"@"+tc.version, func(t *testing.T) {
			rep, err := scanOne(t, db, now, vuln.Package{Ecosystem: tc.eco, Name: tc.name, Version: tc.version})
			if err != nil {
				t.Fatalf("Scan: %v", err)
			}
			var want [][]string
			if tc.want != nil {
				want = [][]string{tc.want}
			}
			if diff := cmp.Diff(want, findingIDs(rep)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFindingDetails(t *testing.T) {
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	db := fixtureDB(t, now)
	rep, err := scanOne(t, db, now, vuln.Package{PURL: "pkg:pypi/requests@2.28.0"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 1 {
		t.Fatalf("got %d findings, want 1", len(rep.Findings))
	}
	got := rep.Findings[0]
	want := vuln.Finding{
		ID: "GHSA-j8r2-6x86-q33q", IDs: []string{"GHSA-j8r2-6x86-q33q", "PYSEC-2023-74"},
		Aliases:          []string{"CVE-2023-32681"},
		Summary:          "Unintended leak of Proxy-Authorization header in requests",
		Package:          vuln.Package{Ecosystem: "PyPI", Name: "requests", Version: "2.28.0", PURL: "pkg:pypi/requests@2.28.0"},
		InstalledVersion: "2.28.0", FixedVersions: []string{"2.31.0"},
		Rating:     vuln.Rating{Severity: finding.SeverityMedium, Method: "CVSS_V3", Score: 6.1, Vector: "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N"},
		References: []string{"https://github.com/psf/requests/security/advisories/GHSA-j8r2-6x86-q33q"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("finding (-want +got):\n%s", diff)
	}
	ff := got.Finding()
	if ff.RuleID != "GHSA-j8r2-6x86-q33q" || ff.Severity != finding.SeverityMedium || ff.Location.Path != "pkg:pypi/requests@2.28.0" || ff.Suppressed {
		t.Errorf("finding.Finding = %+v", ff)
	}
}

func TestSeveritySources(t *testing.T) {
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	db := fixtureDB(t, now)
	for _, tc := range []struct {
		pkg  vuln.Package
		want vuln.Rating
	}{
		{vuln.Package{Ecosystem: "npm", Name: "lodash", Version: "4.17.11"},
			vuln.Rating{Severity: finding.SeverityCritical, Method: "CVSS_V3", Score: 9.1, Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:H"}},
		// Go records carry no severity: explicitly unknown.
		{vuln.Package{Ecosystem: "Go", Name: "golang.org/x/text", Version: "v0.3.5"}, vuln.Rating{}},
		// RustSec fixture has no vector and no database severity.
		{vuln.Package{Ecosystem: "crates.io", Name: "smallvec", Version: "1.6.0"}, vuln.Rating{}},
	} {
		t.Run(tc.pkg.Name, func(t *testing.T) {
			rep, err := scanOne(t, db, now, tc.pkg)
			if err != nil || len(rep.Findings) != 1 {
				t.Fatalf("Scan = %d findings, %v", len(rep.Findings), err)
			}
			if diff := cmp.Diff(tc.want, rep.Findings[0].Rating); diff != "" {
				t.Errorf("rating (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWithdrawnDependsOnClock(t *testing.T) {
	before := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	db := fixtureDB(t, before)
	p := vuln.Package{Ecosystem: "Go", Name: "k8s.io/kubernetes", Version: "v1.20.0"}
	rep, err := scanOne(t, db, before, p)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([][]string{{"GO-2022-0617"}}, findingIDs(rep)); diff != "" {
		t.Errorf("before withdrawal (-want +got):\n%s", diff)
	}
	after := time.Date(2024, 8, 22, 0, 0, 0, 0, time.UTC)
	rep, err = scanOne(t, db, after, p)
	if !errors.Is(err, vuln.ErrDBStale) {
		t.Fatalf("Scan after %s with data imported %s: err = %v, want ErrDBStale", after, before, err)
	}
	if len(rep.Findings) != 0 {
		t.Errorf("withdrawn record still reported: %v", findingIDs(rep))
	}
}

// memDB is an in-memory Database for range-semantics tests.
type memDB struct {
	meta    osvdb.Meta
	entries []*osv.Entry
}

func newMemDB(now time.Time, entries ...*osv.Entry) *memDB {
	m := osvdb.Meta{Format: osvdb.FormatVersion, Ecosystems: map[string]osvdb.EcosystemMeta{}}
	for _, e := range entries {
		for _, a := range e.Affected {
			eco := osv.BaseEcosystem(a.Package.Ecosystem)
			em := m.Ecosystems[eco]
			em.Records++
			em.ImportedAt = now
			m.Ecosystems[eco] = em
		}
	}
	return &memDB{meta: m, entries: entries}
}

func (m *memDB) Meta() osvdb.Meta { return m.meta }

func (m *memDB) Lookup(eco, name string) ([]*osv.Entry, error) {
	var out []*osv.Entry
	for _, e := range m.entries {
		for _, a := range e.Affected {
			if osv.BaseEcosystem(a.Package.Ecosystem) == eco && osv.NormalizeName(eco, a.Package.Name) == osv.NormalizeName(eco, name) {
				out = append(out, e)
				break
			}
		}
	}
	return out, nil
}

func rec(id string, a ...osv.Affected) *osv.Entry { return &osv.Entry{ID: id, Affected: a} }

func aff(name string, versions []string, ranges ...osv.Range) osv.Affected {
	return osv.Affected{Package: osv.Package{Ecosystem: "npm", Name: name}, Ranges: ranges, Versions: versions}
}

func rng(typ osv.RangeType, events ...osv.Event) osv.Range {
	return osv.Range{Type: typ, Repo: "https://example.com/repo.git", Events: events}
}

// TestRangeKinds checks each OSV event kind on both sides of its boundary.
// The records are synthetic: they exist to pin the semantics of each kind.
func TestRangeKinds(t *testing.T) {
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	const c1, c2, c3 = "1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222", "3333333333333333333333333333333333333333"
	db := newMemDB(now,
		rec("LAST-AFFECTED", aff("la", nil, rng(osv.RangeEcosystem, osv.Event{Introduced: "1.0.0"}, osv.Event{LastAffected: "1.2.0"}))),
		rec("LIMIT", aff("lim", nil, rng(osv.RangeSemver, osv.Event{Introduced: "0"}, osv.Event{Limit: "2.0.0"}))),
		rec("UNSORTED", aff("uns", nil, rng(osv.RangeSemver, osv.Event{Fixed: "3.0.0"}, osv.Event{Introduced: "2.0.0"}, osv.Event{Fixed: "1.5.0"}, osv.Event{Introduced: "1.0.0"}))),
		rec("VERSIONS", aff("ver", []string{"1.0.0", "1.0.1"})),
		rec("ALL", aff("all", nil)),
		rec("GIT", aff("git", nil, rng(osv.RangeGit, osv.Event{Introduced: c1}, osv.Event{Fixed: c2}))),
		rec("GIT-WITH-VERSIONS", aff("gitv", []string{"1.0.0"}, rng(osv.RangeGit, osv.Event{Introduced: c1}, osv.Event{Fixed: c2}))),
	)
	for _, tc := range []struct {
		name, version, commit string
		want                  []string
		unevaluable           bool
	}{
		{"la", "0.9.9", "", nil, false},
		{"la", "1.0.0", "", []string{"LAST-AFFECTED"}, false},
		{"la", "1.2.0", "", []string{"LAST-AFFECTED"}, false},
		{"la", "1.2.1", "", nil, false},
		{"lim", "1.9.9", "", []string{"LIMIT"}, false},
		{"lim", "2.0.0", "", nil, false},
		{"uns", "0.9.0", "", nil, false},
		{"uns", "1.4.9", "", []string{"UNSORTED"}, false},
		{"uns", "1.5.0", "", nil, false},
		{"uns", "2.0.0", "", []string{"UNSORTED"}, false},
		{"uns", "3.0.0", "", nil, false},
		{"ver", "1.0.1", "", []string{"VERSIONS"}, false},
		{"ver", "1.0.2", "", nil, false},
		{"all", "9.9.9", "", []string{"ALL"}, false},
		{"git", "", c1, []string{"GIT"}, false},
		{"git", "", c2, nil, false},
		{"git", "1.0.0", "", nil, true}, // no commit: cannot say
		{"git", "", c3, nil, true},      // commit not in the range: no history to place it
		{"gitv", "1.0.0", "", []string{"GIT-WITH-VERSIONS"}, false},
		{"gitv", "1.0.1", "", nil, false}, // the versions list covers the GIT range
	} {
		t.Run(tc.name+"@"+tc.version+tc.commit, func(t *testing.T) {
			rep, err := scanOne(t, db, now, vuln.Package{Ecosystem: "npm", Name: tc.name, Version: tc.version, Commit: tc.commit})
			if got := errors.Is(err, vuln.ErrUnevaluable); got != tc.unevaluable {
				t.Fatalf("errors.Is(err, ErrUnevaluable) = %v, want %v (err %v)", got, tc.unevaluable, err)
			}
			var want [][]string
			if tc.want != nil {
				want = [][]string{tc.want}
			}
			if diff := cmp.Diff(want, findingIDs(rep)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAliasesMergeTransitively(t *testing.T) {
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	r := func(id string, aliases ...string) *osv.Entry {
		e := rec(id, aff("p", nil, rng(osv.RangeEcosystem, osv.Event{Introduced: "0"}, osv.Event{Fixed: "2.0.0"})))
		e.Aliases = aliases
		return e
	}
	db := newMemDB(now, r("A-1", "CVE-1"), r("B-1", "CVE-2"), r("C-1", "CVE-1", "CVE-2"), r("D-1", "CVE-9"))
	rep, err := scanOne(t, db, now, vuln.Package{Ecosystem: "npm", Name: "p", Version: "1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([][]string{{"A-1", "B-1", "C-1"}, {"D-1"}}, findingIDs(rep)); diff != "" {
		t.Errorf("alias groups (-want +got):\n%s", diff)
	}
}

func TestUnparsableVersionsAreNotClean(t *testing.T) {
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	db := fixtureDB(t, now)
	for _, p := range []vuln.Package{
		{Ecosystem: "Go", Name: "golang.org/x/text", Version: "(devel)"},
		{Ecosystem: "Go", Name: "golang.org/x/text", Version: ""},
	} {
		rep, err := scanOne(t, db, now, p)
		if !errors.Is(err, vuln.ErrUnevaluable) || len(rep.Unevaluated) != 1 || len(rep.Findings) != 0 {
			t.Errorf("%s@%q: err %v, unevaluated %v, findings %d; want one unevaluated pair", p.Name, p.Version, err, rep.Unevaluated, len(rep.Findings))
		}
	}
}

func TestSeverityChoice(t *testing.T) {
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	const v4 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
	const v3 = "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N"
	r := func(id, name string, sev []osv.Severity, dbSpecific string) *osv.Entry {
		e := rec(id, aff(name, nil, rng(osv.RangeEcosystem, osv.Event{Introduced: "0"})))
		e.Severity = sev
		if dbSpecific != "" {
			e.DatabaseSpecific = []byte(dbSpecific)
		}
		return e
	}
	db := newMemDB(now,
		r("V4-AND-V3", "both", []osv.Severity{{Type: "CVSS_V3", Score: v3}, {Type: "CVSS_V4", Score: v4}}, ""),
		r("BAD-VECTOR", "bad", []osv.Severity{{Type: "CVSS_V3", Score: "CVSS:3.1/AV:X"}}, `{"severity":"MODERATE"}`),
		r("NONE", "none", nil, `{"severity":"whatever"}`),
	)
	for _, tc := range []struct {
		name string
		want vuln.Rating
	}{
		{"both", vuln.Rating{Severity: finding.SeverityCritical, Method: "CVSS_V4", Score: 9.3, Vector: v4}},
		{"bad", vuln.Rating{Severity: finding.SeverityMedium, Method: "database_specific"}},
		{"none", vuln.Rating{}},
	} {
		rep, err := scanOne(t, db, now, vuln.Package{Ecosystem: "npm", Name: tc.name, Version: "1.0.0"})
		if err != nil || len(rep.Findings) != 1 {
			t.Fatalf("%s: %d findings, %v", tc.name, len(rep.Findings), err)
		}
		if diff := cmp.Diff(tc.want, rep.Findings[0].Rating); diff != "" {
			t.Errorf("%s rating (-want +got):\n%s", tc.name, diff)
		}
	}
}

// TestGoSeverityFromAliases: GO- records carry no severity; the GHSA
// advisories they alias do (real records from golang.org/x/vulndb, see
// testdata/README.md). GO-2023-1629 names k8s.io/kubernetes while its
// GHSA-jh36-q97c-9928 names github.com/kubernetes/kubernetes, so only the
// alias index can rate it; GO-2022-0586 and GHSA-28r2-q6m8-9hpx name the
// same module and merge.
func TestGoSeverityFromAliases(t *testing.T) {
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	if _, err := osvdb.Import(t.Context(), dir, "testdata/osvalias", now); err != nil {
		t.Fatal(err)
	}
	db, err := osvdb.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, tc := range []struct {
		pkg  vuln.Package
		ids  []string
		want vuln.Rating
	}{
		{vuln.Package{Ecosystem: "Go", Name: "k8s.io/kubernetes", Version: "v1.25.3"}, []string{"GO-2023-1629"},
			vuln.Rating{Severity: finding.SeverityHigh, Method: "CVSS_V3", Score: 8.8, Vector: "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", From: "GHSA-jh36-q97c-9928"}},
		{vuln.Package{Ecosystem: "Go", Name: "github.com/hashicorp/go-getter", Version: "v1.6.0"}, []string{"GHSA-28r2-q6m8-9hpx", "GO-2022-0586"},
			vuln.Rating{Severity: finding.SeverityHigh, Method: "CVSS_V3", Score: 8.6, Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:H"}},
	} {
		rep, err := scanOne(t, db, now, tc.pkg)
		if err != nil || len(rep.Findings) != 1 {
			t.Fatalf("%s: %v findings, %v", tc.pkg.Name, findingIDs(rep), err)
		}
		if diff := cmp.Diff(tc.ids, rep.Findings[0].IDs); diff != "" {
			t.Errorf("%s IDs (-want +got):\n%s", tc.pkg.Name, diff)
		}
		if diff := cmp.Diff(tc.want, rep.Findings[0].Rating); diff != "" {
			t.Errorf("%s rating (-want +got):\n%s", tc.pkg.Name, diff)
		}
	}
}
