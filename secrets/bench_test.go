//go:build unix

package secrets_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/secrets"
	"github.com/hallmark-dev/hallmark/secrets/rules"
)

// cleanTexts reads the clean corpus (real Go test files full of hex and
// base64 vectors, lockfiles with integrity hashes, licences: text without
// secrets) and returns its files' contents.
func cleanTexts(tb testing.TB) []string {
	var texts []string
	err := filepath.WalkDir("testdata/clean", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		texts = append(texts, string(b))
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return texts
}

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds the throughput by CPU time, the fair figure on a machine
// shared with other work (where wall time, and so MB/s, is inflated).
func reportCPU(b *testing.B, start time.Duration, bytes int64) {
	if cpu := cpuTime(b) - start; cpu > 0 {
		b.ReportMetric(float64(bytes)*float64(b.N)/1e6/cpu.Seconds(), "cpu-MB/s")
	}
}

// BenchmarkFindClean measures the detector's throughput (MB/s, reported by
// the testing package) on text without secrets, the clean corpus, one text
// at a time and under a neutral file name so that gitleaks' path allowlist
// (lockfiles) hides nothing; cpu-MB/s is the same by CPU time. Run it on
// one core:
//
//	GOMAXPROCS=1 go test ./secrets -run XXX -bench FindClean
func BenchmarkFindClean(b *testing.B) {
	det, err := rules.New()
	if err != nil {
		b.Fatal(err)
	}
	texts := cleanTexts(b)
	var size int64
	for _, t := range texts {
		size += int64(len(t))
	}
	ctx := context.Background()
	b.SetBytes(size)
	start := cpuTime(b)
	for b.Loop() {
		for _, t := range texts {
			if ms := det.Find(ctx, t, "corpus.txt"); len(ms) != 0 {
				b.Fatalf("clean corpus: %d matches, first %s", len(ms), ms[0].RuleID)
			}
		}
	}
	reportCPU(b, start, size)
}

// BenchmarkScanTree measures a whole scan (walking, reading, matching) of
// the directory named by $HALLMARK_SECRETS_BENCH_DIR, or of the clean corpus
// copied many times over under neutral names when it is unset. MB/s is per
// scan (cpu-MB/s by CPU time); with GOMAXPROCS=1 it is the one-core
// throughput.
func BenchmarkScanTree(b *testing.B) {
	dir := os.Getenv("HALLMARK_SECRETS_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
		texts := cleanTexts(b)
		for i := range 20 {
			for j, t := range texts {
				name := filepath.Join(dir, strings.Repeat("d", i%4+1), "f"+string(rune('a'+i))+string(rune('a'+j))+".txt")
				if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
					b.Fatal(err)
				}
				if err := os.WriteFile(name, []byte(t), 0o644); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	var size int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				size += info.Size()
			}
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	s, err := secrets.New(secrets.Config{Workers: runtime.GOMAXPROCS(0)})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	start := cpuTime(b)
	for b.Loop() {
		if _, err := s.Scan(context.Background(), dir); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, start, size)
}
