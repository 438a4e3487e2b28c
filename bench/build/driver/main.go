// Command driver measures the overhead of build.Run (what `hallmark build`
// does) with the sandbox on and off over the bare command, on a real Go
// build, with a cold and a warm build cache. It runs the three variants
// interleaved, several times each, and prints medians and ratios.
//
// It doubles as the sandbox helper: the sandbox re-executes it with
// "__sandbox-init", as the hallmark binary does.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hallmark-dev/hallmark/build"
	"github.com/hallmark-dev/hallmark/build/sandbox"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "__sandbox-init" {
		os.Exit(sandbox.InitMain(os.Args[2:]))
	}
	os.Exit(run())
}

func run() int {
	src := flag.String("src", ".", "module root to build in (the source tree)")
	pkg := flag.String("pkg", "./bench/build/driver", "package to build")
	runs := flag.Int("runs", 5, "runs per variant and cache state")
	caches := flag.String("caches", "warm,cold", "cache states to measure")
	modcache := flag.String("modcache", "", "GOMODCACHE (read-only in the sandbox)")
	goroot := flag.String("goroot", "", "GOROOT whose bin/go builds")
	warmDir := flag.String("warmcache", "", "GOCACHE for the warm runs (default: a new one, filled first)")
	flag.Parse()
	ctx := context.Background()
	srcAbs, err := filepath.Abs(*src)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	work, err := os.MkdirTemp("", "hallmark-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(work)
	path := filepath.Join(*goroot, "bin") + ":/usr/bin:/bin"
	outRel := "bench/build/out"
	argv := []string{"go", "build", "-trimpath", "-o", outRel + "/driver.bin", *pkg}

	for _, state := range strings.Split(*caches, ",") {
		warmCache := *warmDir
		if warmCache == "" {
			warmCache = filepath.Join(work, "gocache-warm")
		}
		times := map[string][]time.Duration{}
		for i := range *runs {
			for _, variant := range []string{"bare", "off", "on"} {
				gocache := warmCache
				if state == "cold" {
					gocache = filepath.Join(work, fmt.Sprintf("gocache-cold-%s-%d", variant, i))
				}
				if err := os.MkdirAll(gocache, 0o755); err != nil {
					fmt.Fprintln(os.Stderr, err)
					return 1
				}
				if state == "warm" && i == 0 && variant == "bare" {
					// Fill the warm cache once, untimed.
					if _, err := bare(ctx, srcAbs, argv, env(path, gocache, *modcache)); err != nil {
						fmt.Fprintln(os.Stderr, "warm-up:", err)
						return 1
					}
				}
				os.RemoveAll(filepath.Join(srcAbs, outRel))
				var d time.Duration
				switch variant {
				case "bare":
					d, err = bare(ctx, srcAbs, argv, env(path, gocache, *modcache))
				default:
					d, err = viaRun(ctx, srcAbs, argv, build.SandboxMode(variant), exe, path, gocache, *modcache, filepath.Join(work, "build.log"))
				}
				if err != nil {
					fmt.Fprintf(os.Stderr, "%s %s run %d: %v\n", state, variant, i, err)
					return 1
				}
				times[variant] = append(times[variant], d)
				fmt.Fprintf(os.Stderr, "%s %-4s run %d: %v\n", state, variant, i, d.Round(time.Millisecond))
				if state == "cold" {
					os.RemoveAll(gocache)
				}
			}
		}
		b := median(times["bare"])
		fmt.Printf("%s cache, %d runs each: bare %v | sandbox off %v (%+.1f%%, %+v) | sandbox on %v (%+.1f%%, %+v) | budget 3%%+150ms = %v\n",
			state, *runs, b.Round(time.Millisecond),
			median(times["off"]).Round(time.Millisecond), pct(median(times["off"]), b), (median(times["off"]) - b).Round(time.Millisecond),
			median(times["on"]).Round(time.Millisecond), pct(median(times["on"]), b), (median(times["on"]) - b).Round(time.Millisecond),
			(b*3/100 + 150*time.Millisecond).Round(time.Millisecond))
	}
	return 0
}

func env(path, gocache, modcache string) []string {
	return []string{"PATH=" + path, "GOCACHE=" + gocache, "GOMODCACHE=" + modcache, "GOPROXY=off",
		"GOTOOLCHAIN=local", "GOFLAGS=-mod=readonly", "CGO_ENABLED=0", "HOME=/nonexistent"}
}

func bare(ctx context.Context, src string, argv, env []string) (time.Duration, error) {
	start := time.Now()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir, cmd.Env = src, env
	cmd.Path = lookup(argv[0], env)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("%w: %s", err, out)
	}
	return time.Since(start), nil
}

func lookup(name string, env []string) string {
	for _, kv := range env {
		if p, ok := strings.CutPrefix(kv, "PATH="); ok {
			for _, d := range filepath.SplitList(p) {
				if _, err := os.Stat(filepath.Join(d, name)); err == nil {
					return filepath.Join(d, name)
				}
			}
		}
	}
	return name
}

func viaRun(ctx context.Context, src string, argv []string, mode build.SandboxMode, exe, path, gocache, modcache, logFile string) (time.Duration, error) {
	start := time.Now()
	res, err := build.Run(ctx, build.Spec{
		Command:       argv,
		SourceDir:     src,
		Env:           []string{"PATH=" + path},
		SetEnv:        map[string]string{"GOCACHE": gocache, "GOFLAGS": "-mod=readonly", "CGO_ENABLED": "0"},
		OutputDirs:    []string{"bench/build/out"},
		CacheDirs:     []string{gocache},
		GoModCache:    modcache,
		LogFile:       logFile,
		Stdout:        io.Discard,
		Sandbox:       mode,
		SandboxHelper: []string{exe, "__sandbox-init"},
	})
	if err != nil {
		log, _ := os.ReadFile(logFile)
		return 0, fmt.Errorf("%w\n%s", err, log)
	}
	if mode == build.SandboxOn && !res.Sandbox.Applied {
		return 0, fmt.Errorf("sandbox not applied: %s", res.Sandbox.FallbackReason)
	}
	if len(res.Products) != 1 {
		return 0, fmt.Errorf("want 1 product, got %v", res.Products)
	}
	return time.Since(start), nil
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func pct(x, base time.Duration) float64 { return 100 * (float64(x) - float64(base)) / float64(base) }
