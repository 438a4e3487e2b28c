package depcheck_test

import (
	"testing"

	"github.com/hallmark-dev/hallmark/depcheck"
)

func TestCanonicalPURL(t *testing.T) {
	for in, want := range map[string]string{
		"pkg:pypi/CTX@0.1?x=1#sub":                 "pkg:pypi/ctx@0.1",
		"pkg:pypi/ctx@*":                           "pkg:pypi/ctx@*",
		"pkg:pypi/Django_Rest.framework@1":         "pkg:pypi/django-rest-framework@1",
		"pkg:npm/%40Babel/Core@7.0.0":              "pkg:npm/@babel/core@7.0.0",
		"pkg:npm/@Acme/*":                          "pkg:npm/@acme/*",
		"pkg:NPM/x":                                "pkg:npm/x",
		"pkg:golang/github.com/Azure/go@v1.2.3":    "pkg:golang/github.com/Azure/go@v1.2.3",
		"pkg:maven/org.A/B@2.14.1?type=jar":        "pkg:maven/org.A/B@2.14.1",
		"pkg:deb/Debian/Zlib1g@1:1.2?arch=amd64":   "pkg:deb/debian/zlib1g@1:1.2",
		"pkg:generic/openssl@3.0.0%2Bquic?x=1#a/b": "pkg:generic/openssl@3.0.0+quic",
	} {
		if got, ok := depcheck.CanonicalPURL(in); got != want || !ok {
			t.Errorf("CanonicalPURL(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if got, ok := depcheck.CanonicalPURL("not a purl"); ok || got != "not a purl" {
		t.Errorf("non-purl: %q, %v", got, ok)
	}
}

func TestCanonicalLicenseExpression(t *testing.T) {
	for in, want := range map[string]string{
		"agpl-3.0-only":                   "AGPL-3.0-only",
		"AGPL-3.0":                        "AGPL-3.0-only",
		"gpl-2.0+":                        "GPL-2.0-or-later",
		"mit OR apache-2.0":               "MIT OR Apache-2.0",
		"(mit AND bsd-3-clause) WITH Foo": "(MIT AND BSD-3-Clause) WITH Foo",
		"LicenseRef-Mine":                 "LicenseRef-Mine",
		"GPL-2.0-only WITH Classpath-exception-2.0": "GPL-2.0-only WITH Classpath-exception-2.0",
	} {
		if got := depcheck.CanonicalLicenseExpression(in); got != want {
			t.Errorf("CanonicalLicenseExpression(%q) = %q, want %q", in, got, want)
		}
	}
}
