package materials_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hallmark-dev/hallmark/build/materials"
)

func fuzzLockfile(f *testing.F, as string, seeds ...string) {
	for _, s := range seeds {
		data, err := os.ReadFile(filepath.Join("testdata", s))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		deps, err := materials.Parse(as, data)
		if err != nil {
			return
		}
		for _, d := range deps {
			if d.PURL == "" || d.Origin != as {
				t.Fatalf("bad dependency %+v", d)
			}
		}
	})
}

func FuzzGoSum(f *testing.F) { fuzzLockfile(f, "go.sum", "go.sum") }
func FuzzPackageLock(f *testing.F) {
	fuzzLockfile(f, "package-lock.json", "package-lock-v1.json", "package-lock-v2.json")
}
func FuzzCargoLock(f *testing.F)    { fuzzLockfile(f, "Cargo.lock", "Cargo.lock") }
func FuzzRequirements(f *testing.F) { fuzzLockfile(f, "requirements.txt", "requirements.txt") }
func FuzzPoetryLock(f *testing.F) {
	fuzzLockfile(f, "poetry.lock", "poetry.lock", "poetry-metadata.lock")
}
