package sbom

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/google/osv-scalibr/extractor/filesystem"
	scalibrfs "github.com/google/osv-scalibr/fs"
	scalibrlog "github.com/google/osv-scalibr/log"
	"github.com/google/osv-scalibr/stats"
)

// BenchmarkScanTree compares Scan on the 13-lockfile fixture tree with the
// baseline of running the same scalibr extractors through filesystem.Run
// alone: the difference is Hallmark's lockfile re-reads, normalisation and
// merging. Report the ratio hallmark/scalibr.
func BenchmarkScanTree(b *testing.B) {
	scalibrlog.SetLogger(quietLogger{}) // the benchmark binary owns its process
	root, err := filepath.Abs("testdata/tree")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("baseline=scalibr-filesystem-run", func(b *testing.B) {
		es, err := newExtractors(DefaultMaxFileSize)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			inv, _, err := filesystem.Run(b.Context(), &filesystem.Config{
				Extractors: es, ScanRoots: []*scalibrfs.ScanRoot{scalibrfs.RealFSScanRoot(root)}, Stats: stats.NoopCollector{},
			})
			if err != nil || len(inv.Packages) == 0 {
				b.Fatal(err)
			}
		}
	})
	b.Run("hallmark-scan", func(b *testing.B) {
		for b.Loop() {
			inv, err := Scan(b.Context(), root)
			if err != nil || len(inv.Components) == 0 {
				b.Fatal(err)
			}
		}
	})
}

type quietLogger struct{}

func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Error(...any)          {}
func (quietLogger) Warnf(string, ...any)  {}
func (quietLogger) Warn(...any)           {}
func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Info(...any)           {}
func (quietLogger) Debugf(string, ...any) {}
func (quietLogger) Debug(...any)          {}

// BenchmarkScanImageLayout scans the image of the OCI layout named by
// $HALLMARK_BENCH_LAYOUT (bench/images/run.sh writes one: real Debian
// packages and a Go toolchain, 471 MiB uncompressed); skipped without it.
// Profile with -cpuprofile to see where an image scan spends its time.
func BenchmarkScanImageLayout(b *testing.B) {
	dir := os.Getenv("HALLMARK_BENCH_LAYOUT")
	if dir == "" {
		b.Skip("HALLMARK_BENCH_LAYOUT names no OCI layout")
	}
	scalibrlog.SetLogger(quietLogger{})
	p, err := layout.FromPath(dir)
	if err != nil {
		b.Fatal(err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		b.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil || len(m.Manifests) == 0 {
		b.Fatalf("%s: no manifest (%v)", dir, err)
	}
	img, err := idx.Image(m.Manifests[0].Digest)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		inv, err := ScanImage(b.Context(), img, ImageSubject{Name: "bench", Digest: m.Manifests[0].Digest})
		if err != nil || len(inv.Components) == 0 {
			b.Fatal(err)
		}
	}
}
