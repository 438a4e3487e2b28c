package secrets_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hallmark-dev/hallmark/secrets"
	"github.com/hallmark-dev/hallmark/secrets/secretstest"
)

// zipBomb returns a zip whose one member expands to n zero bytes followed by
// tail: a few kilobytes on disk, n bytes when read.
func zipBomb(t *testing.T, n int, tail []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "zeros.txt", Method: zip.Deflate})
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	for written := 0; written < n; written += len(chunk) {
		if _, err := w.Write(chunk[:min(len(chunk), n-written)]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Write(tail); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestLimits(t *testing.T) {
	cs := secretstest.Canaries(t, 31)
	gh := []byte(cs[2].Text)
	many := func(t *testing.T) []byte {
		var es []entry
		for i := range 50 {
			es = append(es, entry{fmt.Sprintf("f%02d.txt", i), []byte("x\n")})
		}
		es = append(es, entry{"late.sh", gh})
		return tarBytes(t, es...)
	}
	for _, tc := range []struct {
		name    string
		data    func(t *testing.T) []byte
		limits  secrets.Limits
		want    []string
		message string
	}{{
		name:   "expanded bytes of a zip bomb",
		data:   func(t *testing.T) []byte { return zipBomb(t, 64<<20, gh) },
		limits: secrets.Limits{MaxExpandedBytes: 8 << 20},
		want:   []string{"bomb.zip!zeros.txt " + secrets.IncompleteRule},
		// The reader stops at the budget, not at the 64 MiB the entry holds.
		message: "stopped after extracting",
	}, {
		name:    "bytes searched in one file",
		data:    func(t *testing.T) []byte { return zipBomb(t, 2<<20, gh) },
		limits:  secrets.Limits{MaxFileBytes: 1 << 20},
		want:    []string{"bomb.zip!zeros.txt " + secrets.IncompleteRule},
		message: "only the first 1048576 bytes",
	}, {
		name:    "member count",
		data:    many,
		limits:  secrets.Limits{MaxMembers: 10},
		want:    []string{"bomb.zip " + secrets.IncompleteRule},
		message: "stopped after 10 archive members",
	}, {
		name:   "within limits the secret is found",
		data:   many,
		limits: secrets.Limits{MaxMembers: 100},
		want:   []string{"bomb.zip!late.sh github-pat"},
	}, {
		name:    "corrupt archive",
		data:    func(t *testing.T) []byte { b := zipBytes(t, entry{"a.txt", gh}); return b[:len(b)-30] },
		want:    []string{"bomb.zip " + secrets.IncompleteRule},
		message: "reading zip archive",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "bomb.zip"), tc.data(t))
			fs := scan(t, dir, secrets.Config{Limits: tc.limits})
			if diff := cmp.Diff(tc.want, keys(fs)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			if tc.message != "" && (len(fs) == 0 || !strings.Contains(fs[0].Message, tc.message)) {
				t.Errorf("message %q, want it to contain %q", fs[0].Message, tc.message)
			}
		})
	}
}

func TestBadConfig(t *testing.T) {
	for _, cfg := range []secrets.Config{
		{Limits: secrets.Limits{MaxDepth: -1}},
		{Workers: -2},
		{DecodeDepth: new(int(9))},
	} {
		if _, err := secrets.New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
	if _, err := secrets.Scan(t.Context(), filepath.Join(t.TempDir(), "missing"), secrets.Config{}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("scanning a missing path: err = %v", err)
	}
}

// TestCleanCorpus scans real files full of hashes, base64 vectors and
// lockfile integrity strings, under their own names and renamed so that
// gitleaks' path allowlist cannot hide anything.
func TestCleanCorpus(t *testing.T) {
	if fs := scan(t, "testdata/clean", secrets.Config{}); len(fs) != 0 {
		t.Errorf("clean corpus: %v", keys(fs))
	}
	dir := t.TempDir()
	err := filepath.WalkDir("testdata/clean", func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		writeFile(t, filepath.Join(dir, strings.ReplaceAll(p, string(filepath.Separator), "_")+".renamed"), b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fs := scan(t, dir, secrets.Config{}); len(fs) != 0 {
		t.Errorf("renamed clean corpus: %v", keys(fs))
	}
}

func TestBzip2(t *testing.T) {
	fs := scan(t, "testdata/archives/env.sh.bz2", secrets.Config{})
	if diff := cmp.Diff([]string{"env.sh.bz2 github-pat"}, keys(fs)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if len(fs) == 1 && fs[0].Location.Line != 2 {
		t.Errorf("line %d, want 2", fs[0].Location.Line)
	}
}

// TestHugeSingleLine scans a 200 MB file without a single line break
// (minified code, a one-line JSON dump) with a credential near its end: the
// scan reaches it, and the heap stays bounded, well below the file's size,
// because the file is searched in chunks.
func TestHugeSingleLine(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and scans 200 MB")
	}
	const size = 200 << 20
	gh := secretstest.Canaries(t, 31)[2] // github-pat
	block := []byte(strings.Repeat(`var abc=function(e,t){return e.lookup(t)||"Xq3vB7nZ0pLk"};`, 64))
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "bundle.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	written := 0
	for written+len(block) < size-8192 {
		n, err := f.Write(block)
		if err != nil {
			t.Fatal(err)
		}
		written += n
	}
	// In the middle of a 16 KiB chunk, so that no chunk boundary cuts it.
	pad := (16<<10 - written%(16<<10)) + 4096
	if _, err := f.WriteString(strings.Repeat(";", pad) + `t="` + gh.EnvValue + `";` + strings.Repeat(";", 8192)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := secrets.New(secrets.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var base runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	fs, err := s.Scan(t.Context(), filepath.Join(dir, "bundle.min.js"))
	close(done)
	<-sampled
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 1 || fs[0].RuleID != "github-pat" {
		t.Errorf("findings %v, want the github-pat near the end", keys(fs))
	}
	grew := int64(peak.Load()) - int64(base.HeapInuse)
	t.Logf("heap in use: %d MiB before, peak %d MiB during the scan of %d MiB", base.HeapInuse>>20, peak.Load()>>20, size>>20)
	if grew > 64<<20 {
		t.Errorf("heap grew by %d MiB scanning a %d MiB line, want at most 64 MiB", grew>>20, size>>20)
	}
}

// TestLongLineChunkBoundary: credentials in a file of one long line are
// found exactly once, at their column, wherever they fall relative to the
// points where the line is cut into chunks (every 16 KiB, with an overlap):
// the same findings as far from any cut.
func TestLongLineChunkBoundary(t *testing.T) {
	cs := secretstest.Canaries(t, 7)
	toks := []string{
		`t="` + cs[2].EnvValue + `";`, // github-pat
		// generic-api-key, whose match starts up to 50 word bytes before
		// the key name: a cut inside that prefix must not report it twice.
		`;abcdefghijklmnopqrstuvwxyz0123456789_billing_api_key="` + cs[0].EnvValue + `x9Qz";`,
	}
	s, err := secrets.New(secrets.Config{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// scan reports the findings of prefix+tok+filler as rule, line and
	// column relative to where tok starts.
	scan := func(name, prefix, tok string) []string {
		content := prefix + tok + strings.Repeat(";", 70<<10-len(prefix))
		name = filepath.Join(dir, name)
		if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		fs, err := s.Scan(t.Context(), name)
		if err != nil {
			t.Fatal(err)
		}
		line := strings.Count(prefix, "\n") + 1
		col := len(prefix) - strings.LastIndexByte(prefix, '\n') - 1
		var got []string
		for _, f := range fs {
			got = append(got, fmt.Sprintf("%s %+d:%+d", f.RuleID, f.Location.Line-line, f.Location.Column-col))
		}
		slices.Sort(got)
		return got
	}
	// lines is a filler of short lines, to place a secret on a line that
	// the 16 KiB reads cut, ended in the middle of a line.
	lines := strings.Repeat(strings.Repeat(";", 98)+"\n", 1000)
	for i, tok := range toks {
		want := scan(fmt.Sprintf("ref-%d.min.js", i), strings.Repeat(";", 4000), tok)
		if len(want) == 0 {
			t.Fatalf("token %d: nothing found far from any cut", i)
		}
		for _, cut := range []int{16 << 10, 32 << 10, 48 << 10} {
			for _, before := range []int{0, 1, 5, 20, 40, 60, len(tok) - 1, len(tok), 1023, 1024, 1025, 1030, 1040, 1060, 1100, 2048} {
				at := cut - before
				got := scan(fmt.Sprintf("line-%d-%d-%d.min.js", i, cut, before), strings.Repeat(";", at), tok)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("token %d starting %d bytes before the %d KiB mark of one line: findings differ from far from any cut (-want +got):\n%s", i, before, cut>>10, diff)
				}
				got = scan(fmt.Sprintf("lines-%d-%d-%d.js", i, cut, before), lines[:at-50]+strings.Repeat(";", 50), tok)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("token %d starting %d bytes before the %d KiB mark, short lines: findings differ from far from any cut (-want +got):\n%s", i, before, cut>>10, diff)
				}
			}
		}
	}
}
