package depcheck

import (
	"errors"
	"testing"
)

func TestParsePatternErrors(t *testing.T) {
	for _, s := range []string{
		"npm/lodash",         // no pkg: scheme
		"pkg:npm",            // no name
		"pkg:/lodash",        // no type
		"pkg:npm/lodash@",    // empty version
		"pkg:npm/lodash?x=1", // qualifiers
		"pkg:npm/[a",         // bad glob
		"pkg:npm/a@>=",       // comparator without version
		"pkg:npm/a@~>1.0",    // unknown operator
		"pkg:npm/%zz",        // bad escape
	} {
		if _, err := ParsePattern(s); !errors.Is(err, ErrPattern) {
			t.Errorf("ParsePattern(%q) err = %v, want ErrPattern", s, err)
		}
	}
}

func TestPatternMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, purl, ecosystem string
		want                     bool
	}{
		{"pkg:npm/event-stream@3.3.6", "pkg:npm/event-stream@3.3.6", "npm", true},
		{"pkg:npm/event-stream@3.3.6", "pkg:npm/event-stream@3.3.5", "npm", false},
		{"pkg:npm/event-stream", "pkg:npm/event-stream@4.0.1", "npm", true},
		{"pkg:npm/*", "pkg:npm/lodash@4.17.21", "npm", true},
		{"pkg:npm/*", "pkg:pypi/requests@2.31.0", "PyPI", false},
		{"pkg:*/lodash", "pkg:npm/lodash@4.17.21", "npm", true},
		// A scope is its own path segment: '*' does not cross '/'.
		{"pkg:npm/*", "pkg:npm/%40babel/runtime@7.23.2", "npm", false},
		{"pkg:npm/@babel/*", "pkg:npm/%40babel/runtime@7.23.2", "npm", true},
		{"pkg:npm/@*/*", "pkg:npm/%40babel/runtime@7.23.2", "npm", true},
		{"pkg:npm/@*/*", "pkg:npm/lodash@4.17.21", "npm", false},
		{"pkg:npm/%40babel/runtime@7.*", "pkg:npm/%40babel/runtime@7.23.2", "npm", true},
		{"pkg:npm/lodash@4.17.*", "pkg:npm/lodash@4.17.21", "npm", true},
		// Qualifiers in the package URL do not matter.
		{"pkg:deb/debian/zlib1g", "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=bookworm", "Debian:12", true},
		// #20.7: qualifiers, subpaths, case and PyPI separators never make
		// another package.
		{"pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar", "Maven", true},
		{"pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1#sub/path", "Maven", true},
		{"pkg:pypi/ctx@*", "pkg:pypi/CTX@0.1.2", "PyPI", true},
		{"pkg:pypi/ctx", "pkg:PYPI/Ctx@0.1.2", "PyPI", true},
		{"pkg:pypi/python-dateutil", "pkg:pypi/Python_DateUtil@2.8.2", "PyPI", true},
		{"pkg:npm/Event-Stream@3.3.6", "pkg:npm/event-stream@3.3.6", "npm", true},
		{"pkg:npm/@babel/*", "pkg:npm/%40Babel/runtime@7.23.2", "npm", true},
		// Go module paths and Maven coordinates are case-sensitive.
		{"pkg:golang/github.com/Azure/*", "pkg:golang/github.com/Azure/azure-sdk@v1.0.0", "Go", true},
		{"pkg:golang/github.com/Azure/*", "pkg:golang/github.com/azure/azure-sdk@v1.0.0", "Go", false},
		{"pkg:maven/org.example/Lib", "pkg:maven/org.example/lib@1.0", "Maven", false},
		// Ranges use the ecosystem's ordering.
		{"pkg:maven/org.apache.logging.log4j/log4j-core@>=2.0.0,<2.17.1", "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", "Maven", true},
		{"pkg:maven/org.apache.logging.log4j/log4j-core@>=2.0.0,<2.17.1", "pkg:maven/org.apache.logging.log4j/log4j-core@2.17.1", "Maven", false},
		{"pkg:maven/org.apache.logging.log4j/log4j-core@>=2.0.0,<2.17.1", "pkg:maven/org.apache.logging.log4j/log4j-core@2.0-beta9", "Maven", false},
		{"pkg:npm/minimist@<1.2.6", "pkg:npm/minimist@1.2.5", "npm", true},
		{"pkg:npm/minimist@<1.2.6", "pkg:npm/minimist@1.2.10", "npm", false}, // numeric, not lexical
		{"pkg:npm/minimist@<1.2.6", "pkg:npm/minimist", "npm", false},        // no version: no range holds
		{"pkg:pypi/django@>=4.2 <4.2.8", "pkg:pypi/django@4.2.7", "PyPI", true},
		{"pkg:pypi/django@!=4.2.7", "pkg:pypi/django@4.2.7", "PyPI", false},
		// Debian epochs order before upstream versions.
		{"pkg:deb/debian/zlib1g@<1:1.2.13.dfsg-2", "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64", "Debian:12", true},
		{"pkg:deb/debian/zlib1g@<1.3", "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64", "Debian:12", false},
		// Go versions compare with or without the leading "v".
		{"pkg:golang/golang.org/x/text@<v0.3.8", "pkg:golang/golang.org/x/text@v0.3.5", "Go", true},
		{"pkg:golang/golang.org/x/text@v0.3.5", "pkg:golang/golang.org/x/text@v0.3.5", "Go", true},
		{"pkg:golang/golang.org/x/*", "pkg:golang/golang.org/x/net@v0.10.0", "Go", true},
		{"pkg:npm/lodash", "not a purl", "npm", false},
	} {
		t.Run(tc.pattern+" "+tc.purl, func(t *testing.T) {
			p, err := ParsePattern(tc.pattern)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Match(tc.purl, tc.ecosystem); got != tc.want {
				t.Errorf("Match = %v, want %v", got, tc.want)
			}
		})
	}
}
