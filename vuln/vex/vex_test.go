package vex_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/vuln/vex"
)

func decodeFile(t *testing.T, name string) *vex.Document {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := vex.Decode(f, name, vex.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDecodeRejects(t *testing.T) {
	const head = `{"@context":"https://openvex.dev/ns/v0.2.0","@id":"x","author":"a","statements":[`
	for _, tc := range []struct {
		name, in string
		want     error
	}{
		{"not openvex", `{"@context":"https://cyclonedx.org","statements":[]}`, vex.ErrInvalid},
		{"not_affected without reason", head + `{"vulnerability":{"name":"CVE-1"},"products":[{"@id":"pkg:npm/a"}],"status":"not_affected"}]}`, vex.ErrInvalid},
		{"unknown justification", head + `{"vulnerability":{"name":"CVE-1"},"products":[{"@id":"pkg:npm/a"}],"status":"not_affected","justification":"trust_me"}]}`, vex.ErrInvalid},
		{"unknown status", head + `{"vulnerability":{"name":"CVE-1"},"products":[{"@id":"pkg:npm/a"}],"status":"wontfix"}]}`, vex.ErrInvalid},
		// #20.4 sibling: encoding/json took the last key folding to "status".
		{"status case twin", head + `{"vulnerability":{"name":"CVE-1"},"products":[{"@id":"pkg:npm/a"}],"status":"affected","Status":"fixed"}]}`, vex.ErrInvalid},
		{"no vulnerability", head + `{"products":[{"@id":"pkg:npm/a"}],"status":"fixed"}]}`, vex.ErrInvalid},
		{"too large", head + `{"vulnerability":{"name":"` + strings.Repeat("A", 9<<20) + `"},"status":"fixed"}]}`, vex.ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := vex.Decode(strings.NewReader(tc.in), tc.name, vex.DefaultLimits)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestFind(t *testing.T) {
	docs := []*vex.Document{decodeFile(t, "testdata/app.openvex.json"), decodeFile(t, "testdata/v001.openvex.json")}
	set := vex.NewSet(docs)
	for _, tc := range []struct {
		name       string
		ids        []string
		purl       string
		wantStatus vex.Status
		suppresses bool
	}{
		{"alias, exact version", []string{"GHSA-jf85-cpcp-j695", "CVE-2019-10744"}, "pkg:npm/lodash@4.17.11", vex.StatusNotAffected, true},
		{"case-insensitive ID", []string{"cve-2019-10744"}, "pkg:npm/lodash@4.17.11", vex.StatusNotAffected, true},
		{"other version", []string{"CVE-2019-10744"}, "pkg:npm/lodash@4.17.10", "", false},
		{"other vulnerability", []string{"CVE-2020-8203"}, "pkg:npm/lodash@4.17.11", "", false},
		{"versionless product", []string{"CVE-2021-44906"}, "pkg:npm/minimist@1.2.5", vex.StatusAffected, false},
		{"latest statement wins", []string{"CVE-2023-32681"}, "pkg:pypi/requests@2.28.0", vex.StatusUnderInvestigation, false},
		{"subcomponent", []string{"GHSA-57j2-w4cx-62h2"}, "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.13.2", vex.StatusFixed, true},
		{"qualifiers in package", []string{"RUSTSEC-2021-0003"}, "pkg:cargo/smallvec@1.6.0?arch=x86_64", vex.StatusNotAffected, true},
		{"different type", []string{"CVE-2019-10744"}, "pkg:gem/lodash@4.17.11", "", false},
		{"no purl", []string{"CVE-2019-10744"}, "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, ok := set.Find(tc.ids, tc.purl)
			if got := m.Statement.Status; ok != (tc.wantStatus != "") || got != tc.wantStatus {
				t.Fatalf("Find = %v, %q; want status %q", ok, got, tc.wantStatus)
			}
			if m.Suppresses() != tc.suppresses {
				t.Errorf("Suppresses = %v, want %v", m.Suppresses(), tc.suppresses)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.json")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	lim := vex.Limits{MaxBytes: 1 << 16, MaxStatements: 32, MaxProducts: 64}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := vex.Decode(bytes.NewReader(data), "fuzz", lim)
		if err != nil {
			return
		}
		if len(d.Statements) > lim.MaxStatements {
			t.Fatalf("accepted %d statements", len(d.Statements))
		}
		// Matching an accepted document never panics.
		set := vex.NewSet([]*vex.Document{d}, "pkg:oci/app@sha256:00")
		for _, st := range d.Statements {
			set.Find([]string{st.Vulnerability.Name}, "pkg:npm/a@1.0.0")
		}
	})
}
