package depcheck

import (
	"os"
	"testing"

	"github.com/hallmark-dev/hallmark/sbom"
)

func FuzzParsePolicy(f *testing.F) {
	data, err := os.ReadFile("testdata/policy.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"version":1,"deny":[{"purl":"pkg:npm/*@<1.0.0"}],"licenses":{"allow":["MIT OR Apache-2.0"]}}`))
	f.Add([]byte("version: 1\nlookalike:\n  enabled: false\n"))
	f.Add([]byte("a: &a [*a, *a]\n"))
	inv := &sbom.Inventory{Components: []sbom.Component{
		{Ecosystem: "npm", Name: "crossenv", Version: "6.1.1", PURL: "pkg:npm/crossenv@6.1.1", Licenses: []string{"MIT"}},
		{Ecosystem: "Debian:12", Name: "zlib1g", Version: "1:1.2.13.dfsg-1", PURL: "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1"},
	}}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePolicy(data)
		if err != nil {
			return
		}
		// A policy that compiles must evaluate without panicking.
		_ = Check(inv, p)
	})
}

func FuzzPattern(f *testing.F) {
	f.Add("pkg:maven/org.apache.logging.log4j/log4j-core@>=2.0.0,<2.17.1", "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", "Maven")
	f.Add("pkg:npm/@babel/*", "pkg:npm/%40babel/core@7.23.2", "npm")
	f.Add("pkg:deb/*/zlib1g@<1:1.2.13", "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64", "Debian:12")
	f.Fuzz(func(t *testing.T, pattern, purl, ecosystem string) {
		p, err := ParsePattern(pattern)
		if err != nil {
			return
		}
		_ = p.Match(purl, ecosystem)
	})
}
