package sbom

import (
	"os"
	"testing"
)

func addSeedFile(f *testing.F, path string) {
	f.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
}

// checkFacts asserts the invariants every lockfile reader keeps: hashes are
// well-formed hex of the algorithm's length.
func checkFacts(t *testing.T, facts map[string]lockFacts) {
	lens := map[HashAlgorithm]int{SHA1: 40, SHA256: 64, SHA512: 128}
	for k, f := range facts {
		for _, h := range f.hashes {
			if len(h.Value) != lens[h.Algorithm] {
				t.Fatalf("%s: hash %+v has the wrong length", k, h)
			}
		}
	}
}

func FuzzParseNPMLock(f *testing.F) {
	addSeedFile(f, "testdata/tree/npm-v3/package-lock.json")
	addSeedFile(f, "testdata/tree/npm-v2/package-lock.json")
	f.Add([]byte(`{"packages":{"node_modules/a":{"version":"1.0.0","license":{"type":"MIT"},"integrity":"sha1-AAAAAAAAAAAAAAAAAAAAAAAAAAA= sha512-x"}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		facts, err := parseNPMLock(data)
		if err == nil {
			checkFacts(t, facts)
		}
	})
}

func FuzzParseCargoLock(f *testing.F) {
	addSeedFile(f, "testdata/tree/rust/Cargo.lock")
	f.Add([]byte("[[package]]\nname = \"a\"\nversion = \"1\"\nchecksum = \"zz\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		facts, err := parseCargoLock(data)
		if err == nil {
			checkFacts(t, facts)
		}
	})
}

func FuzzParsePNPMLock(f *testing.F) {
	addSeedFile(f, "testdata/tree/pnpm/pnpm-lock.yaml")
	f.Add([]byte("packages:\n  /@scope/a/1.0.0:\n    resolution: {integrity: sha256-AAAA}\n  /b@2.0.0(c@1):\n    resolution: {}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		facts, err := parsePNPMLock(data)
		if err == nil {
			checkFacts(t, facts)
		}
	})
}

func FuzzParseYarnLock(f *testing.F) {
	addSeedFile(f, "testdata/tree/yarn/yarn.lock")
	f.Add([]byte("\"@babel/core@^7.0.0\", \"@babel/core@^7.1.0\":\n  version \"7.23.2\"\n  integrity sha1-AAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"))
	f.Add([]byte("__metadata:\n  version: 8\n\n\"chalk@npm:4.1.2\":\n  version: 4.1.2\n  checksum: 10c0/abc\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		facts, err := parseYarnLock(data)
		if err == nil {
			checkFacts(t, facts)
		}
	})
}
