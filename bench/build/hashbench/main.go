// Command hashbench compares digest.Tree (parallel, streaming) with
// sha256sum over the same generated tree of mixed file sizes, in the same
// run, alternating the two and reporting medians and the ratio.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"github.com/hallmark-dev/hallmark/digest"
)

// layout is the generated tree: count files of size bytes each, about
// 1 GiB in all, from large artifacts down to small source-like files.
var layout = []struct {
	count int
	size  int64
}{
	{4, 64 << 20},     // 256 MiB
	{48, 8 << 20},     // 384 MiB
	{1536, 256 << 10}, // 384 MiB
	{4096, 4 << 10},   // 16 MiB
}

func main() {
	dir := flag.String("dir", "", "tree directory (generated when missing)")
	runs := flag.Int("runs", 5, "runs of each hasher")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "-dir is required")
		os.Exit(2)
	}
	files, total, err := generate(*dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// Read everything once so both hashers start from a warm page cache.
	if err := exec.Command("sh", "-c", "cat $(find "+*dir+" -type f) > /dev/null").Run(); err != nil {
		fmt.Fprintln(os.Stderr, "warm-up:", err)
	}
	var ours, theirs []time.Duration
	for i := range *runs {
		start := time.Now()
		l, err := digest.Tree(context.Background(), *dir, digest.WithoutGitignore())
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		ours = append(ours, time.Since(start))
		if len(l.Entries) != len(files) {
			fmt.Fprintf(os.Stderr, "digest.Tree saw %d files, want %d\n", len(l.Entries), len(files))
			os.Exit(1)
		}
		start = time.Now()
		cmd := exec.Command("sha256sum", files...)
		cmd.Stdout = io.Discard
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "sha256sum:", err)
			os.Exit(1)
		}
		theirs = append(theirs, time.Since(start))
		fmt.Fprintf(os.Stderr, "run %d: digest.Tree %v, sha256sum %v\n", i, ours[i].Round(time.Millisecond), theirs[i].Round(time.Millisecond))
	}
	o, s := median(ours), median(theirs)
	fmt.Printf("hashing %d files, %.2f GiB, GOMAXPROCS=%d, %d runs: digest.Tree median %v (%.0f MiB/s), sha256sum median %v (%.0f MiB/s), speed-up %.2fx\n",
		len(files), float64(total)/(1<<30), runtime.GOMAXPROCS(0), *runs,
		o.Round(time.Millisecond), float64(total)/(1<<20)/o.Seconds(), s.Round(time.Millisecond), float64(total)/(1<<20)/s.Seconds(),
		s.Seconds()/o.Seconds())
}

// generate writes the layout under dir unless it is already complete and
// returns the file paths in a fixed order.
func generate(dir string) ([]string, int64, error) {
	rng := rand.NewChaCha8([32]byte{'h', 'a', 'l', 'l', 'm', 'a', 'r', 'k'})
	var files []string
	var total int64
	buf := make([]byte, 1<<20)
	for li, l := range layout {
		for i := range l.count {
			p := filepath.Join(dir, fmt.Sprintf("d%d", li), fmt.Sprintf("s%02d", i%64), fmt.Sprintf("f%05d.bin", i))
			files = append(files, p)
			total += l.size
			if fi, err := os.Stat(p); err == nil && fi.Size() == l.size {
				continue
			}
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return nil, 0, err
			}
			f, err := os.Create(p)
			if err != nil {
				return nil, 0, err
			}
			for left := l.size; left > 0; {
				n := min(left, int64(len(buf)))
				rng.Read(buf[:n])
				if _, err := f.Write(buf[:n]); err != nil {
					f.Close()
					return nil, 0, err
				}
				left -= n
			}
			if err := f.Close(); err != nil {
				return nil, 0, err
			}
		}
	}
	return files, total, nil
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
