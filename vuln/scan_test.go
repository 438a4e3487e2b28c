package vuln_test

import (
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	vulnsv02 "github.com/in-toto/attestation/go/predicates/vulns/v02"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/hallmark-dev/hallmark/vuln"
	"github.com/hallmark-dev/hallmark/vuln/osv"
	"github.com/hallmark-dev/hallmark/vuln/osvdb"
	"github.com/hallmark-dev/hallmark/vuln/vex"
)

// failingDB reads meta fine but cannot read records.
type failingDB struct{ memDB }

func (f *failingDB) Lookup(string, string) ([]*osv.Entry, error) {
	return nil, osvdb.ErrCorrupt
}

func TestScanRefusesCleanResult(t *testing.T) {
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	npmRec := rec("X-1", aff("a", nil, rng(osv.RangeSemver, osv.Event{Introduced: "0"}, osv.Event{Fixed: "1.0.0"})))
	fresh := newMemDB(now, npmRec)
	old := newMemDB(now.Add(-4*24*time.Hour), npmRec)
	npm := []vuln.Package{{Ecosystem: "npm", Name: "b", Version: "1.0.0"}}
	for _, tc := range []struct {
		name string
		db   vuln.Database
		pkgs []vuln.Package
		opts []vuln.Option
		want []error
	}{
		{"clean", fresh, npm, nil, nil},
		{"empty database", newMemDB(now), npm, nil, []error{vuln.ErrDBEmpty, vuln.ErrNoEcosystemData}},
		{"ecosystem missing", fresh, append(npm, vuln.Package{Ecosystem: "PyPI", Name: "requests", Version: "2.0.0"}), nil, []error{vuln.ErrNoEcosystemData}},
		{"stale by default", old, npm, nil, []error{vuln.ErrDBStale}},
		{"stale within a wider age", old, npm, []vuln.Option{vuln.WithMaxAge(5 * 24 * time.Hour)}, nil},
		{"unreadable", &failingDB{*fresh}, npm, nil, []error{vuln.ErrDBUnreadable}},
		{"empty inventory", fresh, nil, nil, []error{vuln.ErrNoPackages}},
		{"unknown ecosystem", fresh, []vuln.Package{{Name: "x", Version: "1"}}, nil, []error{vuln.ErrUnevaluable}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := vuln.NewScanner(tc.db, append([]vuln.Option{vuln.WithClock(func() time.Time { return now })}, tc.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := s.Scan(t.Context(), tc.pkgs)
			if rep == nil {
				t.Fatal("Scan returned no report")
			}
			if len(tc.want) == 0 {
				if err != nil || !rep.Complete() {
					t.Fatalf("Scan = %v, complete %v; want a complete clean report", err, rep.Complete())
				}
				return
			}
			if !errors.Is(err, vuln.ErrIncomplete) || rep.Complete() {
				t.Fatalf("Scan err = %v, complete %v; want ErrIncomplete", err, rep.Complete())
			}
			for _, w := range tc.want {
				if !errors.Is(err, w) {
					t.Errorf("err = %v, want it to match %v", err, w)
				}
			}
			if _, err := vuln.Predicate(rep, vuln.ScannerInfo{URI: "pkg:golang/github.com/hallmark-dev/hallmark"}); !errors.Is(err, vuln.ErrIncomplete) {
				t.Errorf("Predicate on an incomplete report: err = %v, want ErrIncomplete", err)
			}
		})
	}
}

func TestScanOnDeletedDatabaseFiles(t *testing.T) {
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	if _, err := osvdb.Import(t.Context(), dir, "testdata/osv", now); err != nil {
		t.Fatal(err)
	}
	db, err := osvdb.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := os.RemoveAll(dir + "/eco"); err != nil {
		t.Fatal(err)
	}
	_, err = scanOne(t, db, now, vuln.Package{Ecosystem: "npm", Name: "lodash", Version: "4.17.21"})
	if !errors.Is(err, vuln.ErrDBUnreadable) {
		t.Errorf("err = %v, want ErrDBUnreadable", err)
	}
}

func loadVEX(t *testing.T, names ...string) []*vex.Document {
	t.Helper()
	var docs []*vex.Document
	for _, n := range names {
		f, err := os.Open(n)
		if err != nil {
			t.Fatal(err)
		}
		d, err := vex.Decode(f, n, vex.DefaultLimits)
		f.Close()
		if err != nil {
			t.Fatalf("Decode %s: %v", n, err)
		}
		docs = append(docs, d)
	}
	return docs
}

func TestVEXSuppressesAndLists(t *testing.T) {
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	db := fixtureDB(t, now)
	docs := loadVEX(t, "testdata/vex/app.openvex.json", "testdata/vex/v001.openvex.json")
	pkgs := []vuln.Package{
		{PURL: "pkg:npm/lodash@4.17.11"},   // not_affected by CVE alias
		{PURL: "pkg:npm/minimist@1.2.5"},   // affected: stays
		{PURL: "pkg:pypi/requests@2.28.0"}, // newer under_investigation wins
		{Ecosystem: "Maven", Name: "com.fasterxml.jackson.core:jackson-databind", Version: "2.13.2"}, // fixed, as a subcomponent, through the purl derived from name and version
		{PURL: "pkg:cargo/smallvec@1.6.0"}, // v0.0.1 document, by ID
		{PURL: "pkg:cargo/smallvec@1.5.0"}, // other version: stays
	}
	type row struct {
		Name, Version, ID, Status, Justification string
	}
	run := func(t *testing.T, set *vex.Set) []row {
		s, err := vuln.NewScanner(db, vuln.WithClock(func() time.Time { return now }), vuln.WithVEX(set))
		if err != nil {
			t.Fatal(err)
		}
		rep, err := s.Scan(t.Context(), pkgs)
		if err != nil {
			t.Fatal(err)
		}
		var rows []row
		for _, f := range rep.Findings {
			r := row{Name: f.Package.Name, Version: f.InstalledVersion, ID: f.ID}
			if f.Suppressed != nil {
				r.Status, r.Justification = f.Suppressed.Status, f.Suppressed.Justification
				ff := f.Finding()
				if !ff.Suppressed || ff.SuppressedReason == "" {
					t.Errorf("%s: finding.Finding not marked suppressed: %+v", f.ID, ff)
				}
			}
			rows = append(rows, r)
		}
		suppressed := 0
		for _, r := range rows {
			if r.Status != "" {
				suppressed++
			}
		}
		if len(rep.Active()) != len(rep.Findings)-suppressed {
			t.Errorf("Active() = %d findings", len(rep.Active()))
		}
		return rows
	}
	t.Run("no subject", func(t *testing.T) {
		want := []row{
			{"com.fasterxml.jackson.core:jackson-databind", "2.13.2", "GHSA-57j2-w4cx-62h2", "fixed", ""},
			{"requests", "2.28.0", "GHSA-j8r2-6x86-q33q", "", ""},
			{"smallvec", "1.5.0", "RUSTSEC-2021-0003", "", ""},
			{"smallvec", "1.6.0", "RUSTSEC-2021-0003", "not_affected", "vulnerable_code_not_present"},
			{"lodash", "4.17.11", "GHSA-jf85-cpcp-j695", "not_affected", "vulnerable_code_not_in_execute_path"},
			{"minimist", "1.2.5", "GHSA-xvch-5gv4-984h", "", ""},
		}
		if diff := cmp.Diff(want, run(t, vex.NewSet(docs))); diff != "" {
			t.Errorf("findings (-want +got):\n%s", diff)
		}
	})
	t.Run("other subject", func(t *testing.T) {
		// With a subject that is not the VEX product, the subcomponent
		// statement about jackson-databind does not apply.
		rows := run(t, vex.NewSet(docs, "pkg:oci/other@sha256:1111111111111111111111111111111111111111111111111111111111111111"))
		if rows[0].Status != "" {
			t.Errorf("jackson-databind suppressed for another product: %+v", rows[0])
		}
	})
}

func TestPredicate(t *testing.T) {
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	db := fixtureDB(t, now.Add(-time.Hour))
	docs := loadVEX(t, "testdata/vex/app.openvex.json")
	s, err := vuln.NewScanner(db, vuln.WithClock(func() time.Time { return now }), vuln.WithVEX(vex.NewSet(docs)))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := s.Scan(t.Context(), []vuln.Package{{PURL: "pkg:npm/lodash@4.17.11"}, {PURL: "pkg:npm/minimist@1.2.5"}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := vuln.Predicate(rep, vuln.ScannerInfo{URI: "pkg:golang/github.com/hallmark-dev/hallmark", Version: "v0.1.0"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Scanner.URI != "pkg:golang/github.com/hallmark-dev/hallmark" || p.Scanner.Version != "v0.1.0" ||
		!p.Scanner.DB.LastUpdate.Equal(now.Add(-time.Hour)) || len(p.Scanner.DB.Version) != len("sha256:")+64 ||
		!p.Metadata.ScanStartedOn.Equal(now) {
		t.Errorf("predicate header = %+v %+v", p.Scanner.DB, p.Metadata)
	}
	var ids []string
	for _, r := range p.Scanner.Result {
		ids = append(ids, r.ID)
	}
	if diff := cmp.Diff([]string{"GHSA-jf85-cpcp-j695", "GHSA-xvch-5gv4-984h"}, ids); diff != "" {
		t.Errorf("result IDs (-want +got):\n%s", diff)
	}
	lodash := p.Scanner.Result[0]
	if diff := cmp.Diff([]vuln.PredicateSeverity{{Method: "hallmark", Score: "critical"}, {Method: "cvss_v3", Score: "9.1"}}, lodash.Severity); diff != "" {
		t.Errorf("severity (-want +got):\n%s", diff)
	}
	if lodash.Annotations[0]["suppressed"] != true || lodash.Annotations[0]["vexStatus"] != "not_affected" {
		t.Errorf("suppressed annotations = %v", lodash.Annotations)
	}
	if _, ok := p.Scanner.Result[1].Annotations[0]["suppressed"]; ok {
		t.Errorf("minimist annotated as suppressed")
	}

	// The JSON must be the shape of the official v0.2 binding: strict
	// protojson decoding rejects unknown or misspelled fields.
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var official vulnsv02.Vulns
	if err := protojson.Unmarshal(b, &official); err != nil {
		t.Fatalf("predicate does not decode as in-toto vulns v0.2: %v\n%s", err, b)
	}
	if !official.GetScanner().GetDb().GetLastUpdate().AsTime().Equal(now.Add(-time.Hour)) || len(official.GetScanner().GetResult()) != 2 ||
		official.GetScanner().GetResult()[0].GetAnnotations()[0].GetFields()["vexStatus"].GetStringValue() != "not_affected" {
		t.Errorf("decoded predicate = %v", &official)
	}
}
