package lockfile

import (
	"os"
	"testing"

	"github.com/hallmark-dev/hallmark/sbom/internal/bom"
)

// Seeds are the real lockfiles of the sbom fixtures.
const fixtures = "../../testdata/tree/"

func addSeedFile(f *testing.F, path string) {
	f.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
}

// checkFacts asserts the invariant every reader keeps: hashes are
// well-formed hex of the algorithm's length.
func checkFacts(t *testing.T, facts map[string]Facts) {
	lens := map[bom.HashAlgorithm]int{bom.SHA1: 40, bom.SHA256: 64, bom.SHA512: 128}
	for k, f := range facts {
		for _, h := range f.Hashes {
			if len(h.Value) != lens[h.Algorithm] {
				t.Fatalf("%s: hash %+v has the wrong length", k, h)
			}
		}
	}
}

func FuzzNPM(f *testing.F) {
	addSeedFile(f, fixtures+"npm-v3/package-lock.json")
	addSeedFile(f, fixtures+"npm-v2/package-lock.json")
	f.Add([]byte(`{"packages":{"node_modules/a":{"version":"1.0.0","license":{"type":"MIT"},"integrity":"sha1-AAAAAAAAAAAAAAAAAAAAAAAAAAA= sha512-x","dependencies":{"b":"*"}},"node_modules/a/node_modules/b":{"version":"2.0.0"}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if facts, err := NPM(data); err == nil {
			checkFacts(t, facts)
		}
	})
}

func FuzzCargo(f *testing.F) {
	addSeedFile(f, fixtures+"rust/Cargo.lock")
	f.Add([]byte("[[package]]\nname = \"a\"\nversion = \"1\"\nchecksum = \"zz\"\ndependencies = [\"b 2 (registry+x)\", \"c\"]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if facts, err := Cargo(data); err == nil {
			checkFacts(t, facts)
		}
	})
}

func FuzzPNPM(f *testing.F) {
	addSeedFile(f, fixtures+"pnpm/pnpm-lock.yaml")
	f.Add([]byte("packages:\n  /@scope/a/1.0.0:\n    resolution: {integrity: sha256-AAAA}\n  /b@2.0.0(c@1):\n    resolution: {}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if facts, err := PNPM(data); err == nil {
			checkFacts(t, facts)
		}
	})
}

func FuzzYarn(f *testing.F) {
	addSeedFile(f, fixtures+"yarn/yarn.lock")
	f.Add([]byte("\"@babel/core@^7.0.0\", \"@babel/core@^7.1.0\":\n  version \"7.23.2\"\n  integrity sha1-AAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"))
	f.Add([]byte("__metadata:\n  version: 8\n\n\"chalk@npm:4.1.2\":\n  version: 4.1.2\n  checksum: 10c0/abc\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if facts, err := Yarn(data); err == nil {
			checkFacts(t, facts)
		}
	})
}
