// Command secrets-bench measures the secret scanner on a generated tree of
// mixed files and compares it, in the same run, with GNU grep -E over the
// same tree using as many patterns as the scanner has rules.
//
//	go run ./bench/secrets [-files 10000] [-keep DIR]
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/hallmark-dev/hallmark/secrets"
	"github.com/hallmark-dev/hallmark/secrets/rules"
)

func main() {
	files := flag.Int("files", 10_000, "number of files to generate")
	keep := flag.String("dir", "", "generate the tree here and keep it (default: a temporary directory)")
	patOut := flag.String("patterns-out", "", "only write the grep -E patterns to this file and exit")
	genOnly := flag.Bool("generate-only", false, "only generate the tree (into -dir) and exit")
	jsonl := flag.String("jsonl", "", "only write the *.json files under -dir as one JSONL file here and exit")
	diff := flag.String("diff", "", "only compare GITLEAKS.json,HALLMARK.json[,PREFIX] reports and exit")
	flag.Parse()
	if *genOnly || *jsonl != "" || *diff != "" {
		var err error
		switch {
		case *diff != "":
			parts := append(strings.Split(*diff, ","), "")
			err = diffFindings(os.Stdout, parts[0], parts[1], parts[2])
		case *keep == "":
			err = fmt.Errorf("-generate-only and -jsonl need -dir")
		case *jsonl != "":
			err = toJSONL(*keep, *jsonl)
		default:
			var planted int
			var size int64
			if err = os.MkdirAll(*keep, 0o755); err == nil {
				planted, size, err = generate(*keep, *files)
				fmt.Printf("generated %d files, %d bytes, %d planted credentials in %s\n", *files, size, planted, *keep)
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "secrets-bench:", err)
			os.Exit(1)
		}
		return
	}
	if *patOut != "" {
		det, err := rules.New()
		if err == nil {
			var pats []string
			pats, _, err = grepPatterns(det.Rules())
			if err == nil {
				err = os.WriteFile(*patOut, []byte(strings.Join(pats, "\n")+"\n"), 0o644)
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "secrets-bench:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*files, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "secrets-bench:", err)
		os.Exit(1)
	}
}

type usage struct {
	wall, cpu time.Duration
}

func (u usage) String() string {
	return fmt.Sprintf("wall %.2fs cpu %.2fs", u.wall.Seconds(), u.cpu.Seconds())
}

// grepTimeout and grepMemory bound each grep run.
const (
	grepTimeout  = 3 * time.Minute
	grepMemoryKB = 2 << 20
)

// grep runs GNU grep -r -n -a with args over dir under a time and memory
// limit and returns its usage and the number of matching lines.
func grep(ctx context.Context, timeout time.Duration, dir string, args ...string) (usage, int, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	sh := fmt.Sprintf(`ulimit -v %d; exec grep -r -n -a "$@"`, grepMemoryKB)
	cmd := exec.CommandContext(ctx, "sh", append([]string{"-c", sh, "sh"}, append(args, dir)...)...)
	// The C locale: byte semantics like the scanner's, and GNU grep -i is
	// about ten times slower under UTF-8.
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	t0 := time.Now()
	err := cmd.Run()
	u := usage{wall: time.Since(t0)}
	if cmd.ProcessState != nil {
		u.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	if ctx.Err() != nil {
		return u, 0, fmt.Errorf("timed out after %s", timeout)
	}
	if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() > 1) {
		return u, 0, fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return u, bytes.Count(out.Bytes(), []byte{'\n'}), nil
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func run(n int, keep string) error {
	dir := keep
	if dir == "" {
		d, err := os.MkdirTemp("", "secrets-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	planted, bytesTotal, err := generate(dir, n)
	if err != nil {
		return err
	}
	det, err := rules.New()
	if err != nil {
		return err
	}
	rs := det.Rules()
	pats, faithful, err := grepPatterns(rs)
	if err != nil {
		return err
	}
	patFile := filepath.Join(os.TempDir(), fmt.Sprintf("secrets-bench-%d.pats", os.Getpid()))
	if err := os.WriteFile(patFile, []byte(strings.Join(pats, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	defer os.Remove(patFile)

	fmt.Printf("tree: %d files, %.1f MB, %d planted canary credentials (GOMAXPROCS %d)\n", n, float64(bytesTotal)/1e6, planted, runtime.GOMAXPROCS(0))
	fmt.Printf("rules: %d scanner rules -> %d grep -E patterns (%d translated, %d replaced by their keyword)\n", len(rs), len(pats), faithful, len(pats)-faithful)

	// Warm the page cache so neither side pays for the first read.
	if _, _, err := grep(context.Background(), grepTimeout, dir, "-F", "-c", "zzzz-warm"); err != nil {
		return err
	}

	ctx := context.Background()
	scan := func(workers int) (usage, int, error) {
		s, err := secrets.New(secrets.Config{Workers: workers})
		if err != nil {
			return usage{}, 0, err
		}
		c0, t0 := selfCPU(), time.Now()
		fs, err := s.Scan(ctx, dir)
		return usage{time.Since(t0), selfCPU() - c0}, len(fs), err
	}
	one, found, err := scan(1)
	if err != nil {
		return err
	}
	fmt.Printf("hallmark secrets (1 worker):  %s, %d findings, %.0f files/s, %.2f MB/s (cpu-time basis: %.0f files/s, %.2f MB/s)\n",
		one, found, float64(n)/one.wall.Seconds(), float64(bytesTotal)/1e6/one.wall.Seconds(),
		float64(n)/one.cpu.Seconds(), float64(bytesTotal)/1e6/one.cpu.Seconds())
	all, _, err := scan(0)
	if err != nil {
		return err
	}
	fmt.Printf("hallmark secrets (%d workers): %s, %.0f files/s, %.2f MB/s\n", runtime.GOMAXPROCS(0), all,
		float64(n)/all.wall.Seconds(), float64(bytesTotal)/1e6/all.wall.Seconds())
	if found != planted {
		fmt.Printf("  note: %d findings for %d planted canaries\n", found, planted)
	}

	perSec := func(u usage) string {
		return fmt.Sprintf("%.0f files/s, %.2f MB/s", float64(n)/u.wall.Seconds(), float64(bytesTotal)/1e6/u.wall.Seconds())
	}
	ratio := func(name string, g usage) {
		fmt.Printf("  ratio scanner(1 worker) / %s: wall %.2fx, cpu %.2fx (below 1 = scanner faster)\n",
			name, one.wall.Seconds()/g.wall.Seconds(), one.cpu.Seconds()/g.cpu.Seconds())
	}

	// Baseline 1: one grep -E process with every pattern (-n prints every
	// matching line, so there is no early exit), bounded in time and memory:
	// GNU grep builds one DFA for the whole set and may blow up.
	g, lines, err := grep(ctx, grepTimeout, dir, "-E", "-i", "-f", patFile)
	switch {
	case err != nil:
		fmt.Printf("grep -E -i -f (%d patterns at once): did not finish: %v after %s\n", len(pats), err, g)
		fmt.Printf("  ratio scanner(1 worker) / grep: below %.3fx (grep gave up or was stopped)\n", one.wall.Seconds()/g.wall.Seconds())
	default:
		fmt.Printf("grep -E -i -f (%d patterns at once): %s, %d matching lines, %s\n", len(pats), g, lines, perSec(g))
		ratio("grep -E all-at-once", g)
	}

	// Baseline 2: the same patterns in batches of 16, one grep -E pass over
	// the tree per batch: what grep can actually complete.
	var batched usage
	batchLines := 0
	for i := 0; i < len(pats); i += 16 {
		bf := patFile + ".batch"
		if err := os.WriteFile(bf, []byte(strings.Join(pats[i:min(i+16, len(pats))], "\n")+"\n"), 0o644); err != nil {
			return err
		}
		u, l, err := grep(ctx, grepTimeout, dir, "-E", "-i", "-f", bf)
		os.Remove(bf)
		if err != nil {
			return fmt.Errorf("grep batch %d: %w", i/16, err)
		}
		batched.wall += u.wall
		batched.cpu += u.cpu
		batchLines += l
	}
	fmt.Printf("grep -E -i -f (%d patterns, %d passes of 16): %s, %d matching lines, %s\n", len(pats), (len(pats)+15)/16, batched, batchLines, perSec(batched))
	ratio("grep -E batched", batched)

	// Baseline 3: only the rules' keywords, as fixed strings: a floor no
	// regex engine beats.
	kwFile := patFile + ".kw"
	var kws []string
	for _, r := range rs {
		kws = append(kws, r.Keywords...)
	}
	if err := os.WriteFile(kwFile, []byte(strings.Join(kws, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	defer os.Remove(kwFile)
	kw, kwLines, err := grep(ctx, grepTimeout, dir, "-F", "-i", "-f", kwFile)
	if err != nil {
		return fmt.Errorf("grep -F: %w", err)
	}
	fmt.Printf("grep -F -i -f (%d rule keywords): %s, %d matching lines, %s\n", len(kws), kw, kwLines, perSec(kw))
	ratio("grep -F keywords", kw)
	return nil
}

// grepPatterns turns every rule regex into a grep -E pattern, checking each
// with grep itself; one that grep rejects is replaced by the rule's first
// keyword so the pattern count stays equal to the rule count.
func grepPatterns(rs []rules.Rule) ([]string, int, error) {
	var pats []string
	faithful := 0
	for _, r := range rs {
		p := ""
		if r.Regex != "" {
			p = toERE(r.Regex)
			cmd := exec.Command("grep", "-E", "-i", "-e", p)
			cmd.Env = append(os.Environ(), "LC_ALL=C")
			cmd.Stdin = strings.NewReader("")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			cmd.Run()
			if cmd.ProcessState.ExitCode() > 1 || stderr.Len() > 0 {
				p = ""
			}
		}
		if p == "" {
			kw := r.ID
			if len(r.Keywords) > 0 {
				kw = r.Keywords[0]
			}
			pats = append(pats, regexp.QuoteMeta(kw))
			continue
		}
		faithful++
		pats = append(pats, p)
	}
	return pats, faithful, nil
}

// generate writes n mixed files (source, manifests, JSON, env files, prose,
// minified scripts, lockfile lines, small binaries) with a canary credential
// in about one file in 200. It returns the number of canaries and bytes.
func generate(dir string, n int) (int, int64, error) {
	r := rand.New(rand.NewPCG(7, 11))
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	str := func(alpha string, k int) string {
		b := make([]byte, k)
		for i := range b {
			b[i] = alpha[r.IntN(len(alpha))]
		}
		return string(b)
	}
	words := strings.Fields("the build step reads config from the environment and writes artifacts to the output directory key token cache layer digest manifest image registry deploy service account policy verify signature provenance")
	prose := func(k int) string {
		var b strings.Builder
		for i := 0; i < k; i++ {
			b.WriteString(words[r.IntN(len(words))])
			if i%14 == 13 {
				b.WriteString(".\n")
			} else {
				b.WriteByte(' ')
			}
		}
		return b.String()
	}
	canary := func() string {
		switch r.IntN(4) {
		case 0:
			return "aws_access_key_id = AKIA" + str("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16) + "\n"
		case 1:
			return "export GH_TOKEN=ghp_" + str(alnum, 36) + "\n"
		case 2:
			return "DATABASE_URL=postgres://app:" + str(alnum, 16) + "@db:5432/app\n"
		default:
			return "client_secret: \"" + str(alnum, 32) + "\"\n"
		}
	}
	planted := 0
	var total int64
	for i := range n {
		var name, body string
		switch i % 8 {
		case 0:
			name = fmt.Sprintf("src/pkg%03d/file%05d.go", i%300, i)
			var b strings.Builder
			fmt.Fprintf(&b, "package pkg%03d\n\nimport \"fmt\"\n\n", i%300)
			for f := range 8 + r.IntN(20) {
				fmt.Fprintf(&b, "// fn%d %s\nfunc fn%d(key string, n int) (string, error) {\n\tcacheKey := fmt.Sprintf(\"%%s-%%d\", key, n)\n\tif n > %d {\n\t\treturn \"\", fmt.Errorf(\"too many: %%d\", n)\n\t}\n\treturn cacheKey, nil\n}\n\n", f, prose(8), f, r.IntN(1000))
			}
			body = b.String()
		case 1:
			name = fmt.Sprintf("deploy/app%04d.yaml", i)
			body = fmt.Sprintf("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app%d\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: registry.example/app@sha256:%s\n        env:\n        - name: TOKEN_FILE\n          value: /var/run/secrets/token\n        resources:\n          limits: {cpu: 500m, memory: 256Mi}\n", i, str("0123456789abcdef", 64))
		case 2:
			name = fmt.Sprintf("data/blob%05d.json", i)
			var b strings.Builder
			b.WriteString("{\n")
			for k := range 10 + r.IntN(30) {
				fmt.Fprintf(&b, "  \"item%d\": {\"digest\": \"sha256:%s\", \"data\": \"%s\"},\n", k, str("0123456789abcdef", 64), str(alnum+"+/", 60))
			}
			b.WriteString("  \"end\": true\n}\n")
			body = b.String()
		case 3:
			name = fmt.Sprintf("env/service%05d.env", i)
			body = fmt.Sprintf("LOG_LEVEL=info\nPORT=%d\nCACHE_DIR=/var/cache/app\nFEATURE_FLAGS=a,b,c\n", 8000+i%1000)
		case 4:
			name = fmt.Sprintf("docs/page%05d.md", i)
			body = "# " + prose(5) + "\n\n" + prose(300+r.IntN(400))
		case 5:
			name = fmt.Sprintf("web/bundle%05d.min.js", i)
			var b strings.Builder
			for range 60 + r.IntN(150) {
				fmt.Fprintf(&b, "var %s=function(e,t){return e.%s(t)||\"%s\"};", str("abcdefghijklmnopqrstuvwxyz", 3), str("abcdefghijklmnopqrstuvwxyz", 6), str(alnum, 12))
			}
			body = b.String() + "\n"
		case 6:
			name = fmt.Sprintf("deps/mod%05d.sum", i)
			var b strings.Builder
			for k := range 20 + r.IntN(40) {
				fmt.Fprintf(&b, "example.com/mod%d/key%d v1.%d.0 h1:%s=\n", i, k, k, str(alnum+"+/", 43))
			}
			body = b.String()
		case 7:
			name = fmt.Sprintf("bin/tool%05d.bin", i)
			b := make([]byte, 4096+r.IntN(8192))
			for j := range b {
				b[j] = byte(r.IntN(256))
			}
			body = string(b)
		}
		if i%200 == 3 && i%8 != 7 {
			body += canary()
			planted++
		}
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return 0, 0, err
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			return 0, 0, err
		}
		total += int64(len(body))
	}
	return planted, total, nil
}
