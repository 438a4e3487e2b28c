package misconfig_test

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/hallmark-dev/hallmark/misconfig"
)

// benchTree lays out n files under a temp dir by cycling through the
// corpus files (Dockerfiles, manifests, workflows) and adding one
// non-candidate source file in five, the mix of a real repository. It
// returns the root and the total bytes written.
func benchTree(b *testing.B, n int) (string, int64) {
	b.Helper()
	src := filepath.Join("testdata", "corpus")
	type file struct {
		rel  string
		data []byte
	}
	var files []file
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "expected.yaml" {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		files = append(files, file{rel, data})
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	goSrc := []byte("package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"hello\")\n}\n")
	root := b.TempDir()
	var total int64
	for i := range n {
		dir := filepath.Join(root, fmt.Sprintf("repo%03d", i/len(files)))
		var rel string
		var data []byte
		if i%5 == 4 {
			rel, data = fmt.Sprintf("cmd/main%d.go", i), goSrc
		} else {
			f := files[i%len(files)]
			rel, data = f.rel, f.data
		}
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			b.Fatal(err)
		}
		total += int64(len(data))
	}
	return root, total
}

// BenchmarkScanTree measures Scan over 10,000 mixed files against the
// baseline of walking the same tree and reading every file (pure I/O);
// bench/misconfig/run.sh prints the ratio.
func BenchmarkScanTree(b *testing.B) {
	const n = 10_000
	root, total := benchTree(b, n)
	report := func(b *testing.B) {
		sec := b.Elapsed().Seconds() / float64(b.N)
		b.ReportMetric(float64(n)/sec, "files/s")
		b.ReportMetric(float64(total)/sec/1e6, "MB/s")
	}
	b.Run("baseline=walk-and-read", func(b *testing.B) {
		for b.Loop() {
			err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				_, err = os.ReadFile(p)
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		report(b)
	})
	b.Run("scan", func(b *testing.B) {
		for b.Loop() {
			fs, err := misconfig.Scan(b.Context(), root, misconfig.Config{AllowedRegistries: []string{"docker.io", "ghcr.io/acme"}})
			if err != nil || len(fs) == 0 {
				b.Fatalf("scan: %d findings, %v", len(fs), err)
			}
		}
		report(b)
	})
}
