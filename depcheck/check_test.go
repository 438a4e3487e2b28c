package depcheck

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hallmark-dev/hallmark/finding"
	"github.com/hallmark-dev/hallmark/sbom"
)

func npm(name, version string, licenses ...string) sbom.Component {
	p := "pkg:npm/" + strings.Replace(name, "@", "%40", 1) + "@" + version
	return sbom.Component{Ecosystem: "npm", Name: name, Version: version, PURL: p, Licenses: licenses, Locations: []string{"package-lock.json"}}
}

func pypi(name, version string) sbom.Component {
	return sbom.Component{Ecosystem: "PyPI", Name: name, Version: version, PURL: "pkg:pypi/" + name + "@" + version, Locations: []string{"requirements.txt"}}
}

func mustPolicy(t *testing.T, src string) *Policy {
	t.Helper()
	p, err := ParsePolicy([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// summary reduces findings to "RULE severity purl [suppressed]" lines.
func summary(fs []finding.Finding) []string {
	var out []string
	for _, f := range fs {
		s := f.RuleID + " " + f.Severity.String() + " " + f.Evidence
		if f.Suppressed {
			s += " suppressed"
		}
		out = append(out, s)
	}
	return out
}

func TestDenyAndAllow(t *testing.T) {
	p := mustPolicy(t, `
version: 1
deny:
  - purl: pkg:npm/event-stream@3.3.6
    severity: critical
    reason: compromised release
  - purl: pkg:npm/*
    reason: default deny for npm
allow:
  - purl: pkg:npm/lodash
    reason: reviewed
lookalike: {enabled: false}
`)
	inv := &sbom.Inventory{Components: []sbom.Component{
		npm("event-stream", "3.3.6"), npm("event-stream", "3.3.5"), npm("lodash", "4.17.21"), pypi("requests", "2.31.0"),
	}}
	got := summary(Check(inv, p))
	want := []string{
		"HM-DEP-001 high pkg:npm/event-stream@3.3.5",
		"HM-DEP-001 critical pkg:npm/event-stream@3.3.6",
		"HM-DEP-001 high pkg:npm/lodash@4.17.21 suppressed",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

func TestLicenses(t *testing.T) {
	base := `
version: 1
licenses:
  allow: [MIT, Apache-2.0, ISC]
  unknown: %s
  exceptions:
    - purl: pkg:npm/internal-tool
lookalike: {enabled: false}
`
	inv := &sbom.Inventory{Components: []sbom.Component{
		npm("a-mit", "1.0.0", "MIT"),
		npm("b-gpl", "1.0.0", "GPL-3.0-only"),
		npm("c-dual", "1.0.0", "MIT OR GPL-3.0-only"),         // satisfied by MIT
		npm("d-both", "1.0.0", "MIT AND GPL-3.0-only"),        // needs GPL too
		npm("e-two-declared", "1.0.0", "MIT", "BSD-3-Clause"), // both must hold
		npm("f-none", "1.0.0"),
		npm("g-bogus", "1.0.0", "SEE LICENSE IN LICENSE.txt"),
		npm("internal-tool", "1.0.0", "LicenseRef-Proprietary"),
		npm("h-apache-plus", "1.0.0", "Apache-2.0+"),
	}}
	for _, tc := range []struct {
		unknown string
		want    []string
	}{
		{"warn", []string{
			"HM-DEP-002 medium pkg:npm/b-gpl@1.0.0",
			"HM-DEP-002 medium pkg:npm/d-both@1.0.0",
			"HM-DEP-002 medium pkg:npm/e-two-declared@1.0.0",
			"HM-DEP-003 low pkg:npm/f-none@1.0.0",
			"HM-DEP-003 low pkg:npm/g-bogus@1.0.0",
		}},
		{"deny", []string{
			"HM-DEP-002 medium pkg:npm/b-gpl@1.0.0",
			"HM-DEP-002 medium pkg:npm/d-both@1.0.0",
			"HM-DEP-002 medium pkg:npm/e-two-declared@1.0.0",
			"HM-DEP-003 medium pkg:npm/f-none@1.0.0",
			"HM-DEP-003 medium pkg:npm/g-bogus@1.0.0",
		}},
		{"ignore", []string{
			"HM-DEP-002 medium pkg:npm/b-gpl@1.0.0",
			"HM-DEP-002 medium pkg:npm/d-both@1.0.0",
			"HM-DEP-002 medium pkg:npm/e-two-declared@1.0.0",
		}},
	} {
		t.Run(tc.unknown, func(t *testing.T) {
			p := mustPolicy(t, strings.Replace(base, "%s", tc.unknown, 1))
			if diff := cmp.Diff(tc.want, summary(Check(inv, p))); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLookalike(t *testing.T) {
	p := mustPolicy(t, "version: 1\nallow:\n  - purl: pkg:npm/expresss\n    reason: checked by hand\n")
	for _, tc := range []struct {
		c            sbom.Component
		target, kind string // empty: no finding
	}{
		{npm("crossenv", "6.1.1"), "cross-env", KindSeparator},
		{npm("cross_env", "7.0.3"), "cross-env", KindSeparator},
		{pypi("reqeusts", "2.28.1"), "requests", KindTransposition},
		{pypi("reqests", "2.28.1"), "requests", KindOmission},
		{pypi("Python_Dateutil", "2.8.2"), "", ""}, // same project as python-dateutil under PEP 503
		{pypi("python3-dateutil", "2.8.2"), "python-dateutil", KindEditDistance},
		{npm("lodahs", "4.17.21"), "lodash", KindTransposition},
		{npm("loadsh", "4.17.21"), "lodash", KindTransposition},
		{npm("chalkk", "4.1.2"), "chalk", KindDuplication},
		{npm("types-node", "20.0.0"), "@types/node", KindScope},
		{npm("@bable/core", "7.23.2"), "@babel/core", KindTransposition},
		{npm("@babei/core", "7.23.2"), "@babel/core", KindScope},
		{npm("axois", "1.6.0"), "axios", KindTransposition},
		{npm("discordjs", "14.0.0"), "discord.js", KindSeparator},
		{sbom.Component{Ecosystem: "Go", Name: "github.com/gin-gonlc/gin", PURL: "pkg:golang/github.com/gin-gonlc/gin@v1.9.1"}, "github.com/gin-gonic/gin", KindEditDistance},
		{sbom.Component{Ecosystem: "crates.io", Name: "serde_jsno", PURL: "pkg:cargo/serde_jsno@1.0.0"}, "serde_json", KindTransposition},
		{sbom.Component{Ecosystem: "RubyGems", Name: "nokogirl", PURL: "pkg:gem/nokogirl@1.0.0"}, "nokogiri", KindEditDistance},
		// A Cyrillic 'а' in place of the Latin 'a' (a homoglyph).
		{sbom.Component{Ecosystem: "Maven", Name: "com.google.guava:guav\u0430", PURL: "pkg:maven/com.google.guava/guav%D0%B0@32.1.2-jre"}, "com.google.guava:guava", KindEditDistance},
		// Not look-alikes: popular names themselves, legitimate scoped
		// type packages, names too short to judge, other ecosystems.
		{npm("lodash", "4.17.21"), "", ""},
		{npm("@types/lodash", "4.14.0"), "", ""},
		{npm("ms", "2.1.3"), "", ""},
		{npm("expresss", "4.18.2"), "", ""}, // allowed by the policy
		{sbom.Component{Ecosystem: "Debian:12", Name: "zlib1g", PURL: "pkg:deb/debian/zlib1g@1"}, "", ""},
	} {
		t.Run(tc.c.Name, func(t *testing.T) {
			fs := Check(&sbom.Inventory{Components: []sbom.Component{tc.c}}, p)
			if tc.target == "" {
				if len(fs) != 0 {
					t.Errorf("unexpected findings: %v", fs)
				}
				return
			}
			if len(fs) != 1 || fs[0].RuleID != RuleLookalike || fs[0].Severity != finding.SeverityHigh {
				t.Fatalf("findings = %+v, want one high %s", fs, RuleLookalike)
			}
			want := `"` + tc.target + `" (` + tc.kind + `)`
			if !strings.Contains(fs[0].Message, want) {
				t.Errorf("message %q does not name %s", fs[0].Message, want)
			}
		})
	}
}

// TestRealInventory scans real lockfiles: the risky app fixture and, for
// false positives, the sbom package's multi-ecosystem fixture tree.
func TestRealInventory(t *testing.T) {
	p, err := LoadPolicy("testdata/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	inv, err := sbom.Scan(t.Context(), "testdata/app")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"HM-DEP-001 critical pkg:npm/event-stream@3.3.6",
		"HM-DEP-001 critical pkg:npm/flatmap-stream@0.1.1",
		"HM-DEP-004 high pkg:npm/crossenv@6.1.1",
		"HM-DEP-003 low pkg:pypi/reqeusts@2.28.1",
		"HM-DEP-003 low pkg:pypi/requests@2.31.0",
		"HM-DEP-004 high pkg:pypi/reqeusts@2.28.1",
	}
	if diff := cmp.Diff(want, summary(Check(inv, p))); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}

	// No false positives on real dependency sets: the sbom fixtures (64
	// packages in six ecosystems) and the npm lockfile of a project using
	// express, react, webpack, eslint, jest, axios, lodash and typescript
	// (459 packages, generated by npm 11).
	lookalikeOnly := mustPolicy(t, "version: 1\n")
	for _, dir := range []string{"../sbom/testdata/tree", "testdata/popular-app"} {
		inv, err := sbom.Scan(t.Context(), dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(inv.Components) < 60 {
			t.Fatalf("%s: only %d components", dir, len(inv.Components))
		}
		if fs := Check(inv, lookalikeOnly); len(fs) != 0 {
			t.Errorf("%s: look-alike false positives among %d real packages: %v", dir, len(inv.Components), summary(fs))
		}
	}
}

func TestPolicyErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src, field string
	}{
		{"no version", "deny: []", "version"},
		{"bad pattern", "version: 1\ndeny:\n  - purl: npm/lodash\n", "deny[0].purl"},
		{"bad severity", "version: 1\ndeny:\n  - purl: pkg:npm/a\n    severity: severe\n", "deny[0].severity"},
		{"bad licence", "version: 1\nlicenses:\n  allow: [MIT, Not A Licence]\n", "licenses.allow[1]"},
		{"empty licences", "version: 1\nlicenses:\n  unknown: deny\n", "licenses.allow"},
		{"bad unknown", "version: 1\nlicenses:\n  allow: [MIT]\n  unknown: maybe\n", "licenses.unknown"},
		{"bad distance", "version: 1\nlookalike:\n  maxDistance: 9\n", "lookalike.maxDistance"},
		{"bad ecosystem", "version: 1\nlookalike:\n  popular:\n    cpan: [Moose]\n", "lookalike.popular"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePolicy([]byte(tc.src))
			pe, ok := errors.AsType[*PolicyError](err)
			if !ok || pe.Field != tc.field {
				t.Fatalf("err = %v, want a PolicyError for %s", err, tc.field)
			}
			if !errors.Is(err, ErrPolicy) && !errors.Is(err, ErrPattern) {
				t.Errorf("err = %v does not wrap ErrPolicy or ErrPattern", err)
			}
		})
	}
	if _, err := ParsePolicy([]byte("version: 1\ndenny: []\n")); !errors.Is(err, ErrPolicy) {
		t.Errorf("misspelt field: err = %v, want ErrPolicy", err)
	}
	if _, err := ParsePolicy(make([]byte, MaxPolicySize+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized policy: err = %v, want ErrTooLarge", err)
	}
	// JSON is YAML: the same policy can be written as JSON.
	p, err := ParsePolicy([]byte(`{"version": 1, "deny": [{"purl": "pkg:npm/left-pad"}], "lookalike": {"enabled": false}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := summary(Check(&sbom.Inventory{Components: []sbom.Component{npm("left-pad", "1.3.0")}}, p)); len(got) != 1 {
		t.Errorf("JSON policy findings = %v", got)
	}
}

// TestDocumentedPolicyParses keeps the example in docs/depcheck.md valid.
func TestDocumentedPolicyParses(t *testing.T) {
	md, err := os.ReadFile("../docs/depcheck.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(md), "```yaml\n")
	if !ok {
		t.Fatal("no yaml example in docs/depcheck.md")
	}
	example, _, _ := strings.Cut(rest, "```")
	p, err := ParsePolicy([]byte(example))
	if err != nil {
		t.Fatalf("documented policy: %v", err)
	}
	got := summary(Check(&sbom.Inventory{Components: []sbom.Component{npm("event-stream", "3.3.6", "MIT"), npm("@acme/sdk", "1.0.0", "MIT")}}, p))
	if diff := cmp.Diff([]string{"HM-DEP-001 critical pkg:npm/event-stream@3.3.6"}, got); diff != "" {
		t.Errorf("documented policy findings (-want +got):\n%s", diff)
	}
}

func TestPopularListsShipped(t *testing.T) {
	pop := Popular()
	for _, eco := range []string{"npm", "PyPI", "Go", "crates.io", "RubyGems", "Maven"} {
		if len(pop[eco]) < 25 {
			t.Errorf("%s: %d popular names, want a real list", eco, len(pop[eco]))
		}
	}
}
