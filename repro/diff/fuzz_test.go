package diff_test

import (
	"testing"

	"github.com/hallmark-dev/hallmark/repro/diff"
)

// fuzzAgainst compares fuzzed input with a valid archive of the same format
// and with itself: bad input must never panic, hang or fail the comparison.
func fuzzAgainst(f *testing.F, valid []byte, seeds ...[]byte) {
	f.Add(valid)
	for _, s := range seeds {
		f.Add(s)
	}
	opts := []diff.Option{diff.WithMaxDecompressed(1 << 20), diff.WithMaxMemory(1 << 20), diff.WithMaxMembers(64), diff.WithMaxDepth(4)}
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := diff.Bytes(t.Context(), "valid", valid, "fuzz", data, opts...)
		if err != nil {
			t.Fatalf("comparison failed: %v", err)
		}
		if rep.Identical != (string(valid) == string(data)) {
			t.Fatalf("Identical = %v for inputs that are equal=%v", rep.Identical, string(valid) == string(data))
		}
		if !rep.Identical && len(rep.Differences) == 0 && len(rep.Notes) == 0 {
			t.Fatal("differing inputs with neither differences nor notes")
		}
	})
}

func fuzzSeeds(f *testing.F) []entry {
	f.Helper()
	return []entry{{name: "a/b", body: "hello\n"}, {name: "c", body: "{\"k\":1}"}}
}

func FuzzTar(f *testing.F) {
	es := fuzzSeeds(f)
	fuzzAgainst(f, tarBytes(f, es), tarBytes(f, es[:1]), tarBytes(f, []entry{{name: "c", body: "x", mode: 0o777}}))
}

func FuzzZip(f *testing.F) {
	es := fuzzSeeds(f)
	fuzzAgainst(f, zipBytes(f, es), zipBytes(f, es[:1]), zipBytes(f, []entry{{name: "c", body: "x", mode: 0o777}}))
}

func FuzzAr(f *testing.F) {
	es := fuzzSeeds(f)
	fuzzAgainst(f, arBytes(f, es), arBytes(f, es[:1]), []byte("!<arch>\n//                                              10        `\nlong-name/\n/0              0           0     0     644     1         `\nx\n"))
}

func FuzzGzip(f *testing.F) {
	es := fuzzSeeds(f)
	fuzzAgainst(f, gzipBytes(f, tarBytes(f, es), epoch), gzipBytes(f, []byte("plain text\n"), epoch), gzipBytes(f, arBytes(f, es), epoch))
}
