package sbom

import (
	"path/filepath"
	"testing"

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
