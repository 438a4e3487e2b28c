package digest_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/hallmark-dev/hallmark/digest"
)

// BenchmarkTree hashes a 64 MiB tree of mixed file sizes with one worker
// (the sequential baseline) and with GOMAXPROCS workers.
func BenchmarkTree(b *testing.B) {
	dir := b.TempDir()
	rng := rand.NewChaCha8([32]byte{1})
	var total int64
	for i, size := range []int{8 << 20, 8 << 20, 4 << 20, 4 << 20} {
		total += int64(size)
		writeRandom(b, rng, filepath.Join(dir, fmt.Sprintf("big%d", i)), size)
	}
	for i := range 256 {
		total += 128 << 10
		writeRandom(b, rng, filepath.Join(dir, fmt.Sprintf("d%02d", i%16), fmt.Sprintf("f%03d", i)), 128<<10)
	}
	for _, workers := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			b.SetBytes(total)
			for b.Loop() {
				if _, err := digest.Tree(b.Context(), dir, digest.WithWorkers(workers)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func writeRandom(b *testing.B, rng *rand.ChaCha8, path string, size int) {
	b.Helper()
	buf := make([]byte, size)
	rng.Read(buf)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		b.Fatal(err)
	}
}
