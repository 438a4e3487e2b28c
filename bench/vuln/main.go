// Command vulnbench compares the wall time and the module-level findings of
// Hallmark's OSV matcher with govulncheck -scan module (run in-process via
// golang.org/x/vuln/scan) on the same module and the same OSV records.
//
// Usage: go run ./bench/vuln -osv DIR/data/osv -project MODULEDIR [-runs N]
//
// See run.sh, which prepares the inputs.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/vuln/scan"

	"github.com/hallmark-dev/hallmark/vuln"
	"github.com/hallmark-dev/hallmark/vuln/osvdb"
)

func main() {
	osvDir := flag.String("osv", "", "directory of Go OSV records (golang.org/x/vulndb data/osv)")
	project := flag.String("project", "", "module directory with go.mod, go.sum and a root package")
	runs := flag.Int("runs", 3, "timed runs of each tool (the median is reported)")
	flag.Parse()
	if *osvDir == "" || *project == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(context.Background(), *osvDir, *project, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "vulnbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, osvDir, project string, runs int) error {
	dbDir, err := os.MkdirTemp("", "vulnbench-db-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dbDir)

	start := time.Now()
	meta, err := osvdb.Import(ctx, dbDir, osvDir, time.Now())
	if err != nil {
		return err
	}
	importTime := time.Since(start)

	pkgs, err := inventory(filepath.Join(project, "go.mod"))
	if err != nil {
		return err
	}

	var hmTimes, gvTimes []time.Duration
	var rep *vuln.Report
	var gvFound map[string][]string
	var gvModules []string
	for i := 0; i < runs; i++ {
		start = time.Now()
		rep, err = hallmarkScan(ctx, dbDir, filepath.Join(project, "go.mod"))
		if err != nil {
			return fmt.Errorf("hallmark scan: %w", err)
		}
		hmTimes = append(hmTimes, time.Since(start))

		start = time.Now()
		gvFound, gvModules, err = govulncheck(ctx, project, osvDir)
		if err != nil {
			return fmt.Errorf("govulncheck: %w", err)
		}
		gvTimes = append(gvTimes, time.Since(start))
	}

	hmFound := map[string][]string{}
	for _, f := range rep.Findings {
		hmFound[f.Package.Name] = append(hmFound[f.Package.Name], f.IDs...)
	}
	considered := map[string]bool{}
	for _, m := range gvModules {
		considered[m] = true
	}
	outside := map[string][]string{}
	for m, ids := range hmFound {
		hmFound[m] = uniq(ids)
		if !considered[m] {
			outside[m] = hmFound[m]
			delete(hmFound, m)
		}
	}
	ids := func(m map[string][]string) int {
		n := 0
		for _, v := range m {
			n += len(v)
		}
		return n
	}
	hm, gv := median(hmTimes), median(gvTimes)
	fmt.Printf("OSV records imported:           %d Go records (%d withdrawn) in %s\n", meta.Ecosystems["Go"].Records, meta.Ecosystems["Go"].Withdrawn, importTime.Round(time.Millisecond))
	fmt.Printf("inventory (go.mod requires):    %d modules\n", len(pkgs))
	fmt.Printf("govulncheck package graph:      %d modules (main module and stdlib excluded)\n", len(gvModules))
	fmt.Printf("hallmark findings:              %d modules, %d OSV IDs on govulncheck's modules; %d modules, %d IDs outside its graph\n", len(hmFound), ids(hmFound), len(outside), ids(outside))
	fmt.Printf("govulncheck findings:           %d modules, %d OSV IDs (stdlib/toolchain excluded)\n", len(gvFound), ids(gvFound))
	fmt.Printf("hallmark scan (open+match):     median %s of %d runs %v\n", hm.Round(time.Microsecond), runs, round(hmTimes))
	fmt.Printf("govulncheck -scan module:       median %s of %d runs %v\n", gv.Round(time.Millisecond), runs, round(gvTimes))
	fmt.Printf("speed-up (scan):                %.1fx\n", float64(gv)/float64(hm))
	fmt.Printf("speed-up (import+scan vs gv):   %.1fx\n", float64(gv)/float64(importTime+hm))
	for m, v := range outside {
		fmt.Printf("  outside govulncheck's graph (not loaded on this platform/tags): %s %v\n", m, v)
	}
	if diff := compare(gvFound, hmFound); diff != "" {
		fmt.Printf("findings DIFFER:\n%s", diff)
		return fmt.Errorf("module-level findings differ from govulncheck")
	}
	fmt.Println("module-level findings:          identical")
	return nil
}

func hallmarkScan(ctx context.Context, dbDir, gomod string) (*vuln.Report, error) {
	db, err := osvdb.Open(dbDir)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	pkgs, err := inventory(gomod)
	if err != nil {
		return nil, err
	}
	s, err := vuln.NewScanner(db)
	if err != nil {
		return nil, err
	}
	return s.Scan(ctx, pkgs)
}

// inventory lists go.mod requirements (with same-path version replacements
// applied) as packages.
func inventory(gomod string) ([]vuln.Package, error) {
	data, err := os.ReadFile(gomod)
	if err != nil {
		return nil, err
	}
	f, err := modfile.Parse(gomod, data, nil)
	if err != nil {
		return nil, err
	}
	repl := map[string]string{}
	for _, r := range f.Replace {
		if r.New.Version != "" && r.Old.Path == r.New.Path {
			repl[r.Old.Path] = r.New.Version
		}
	}
	var out []vuln.Package
	for _, r := range f.Require {
		v := r.Mod.Version
		if rv, ok := repl[r.Mod.Path]; ok {
			v = rv
		}
		out = append(out, vuln.Package{Ecosystem: "Go", Name: r.Mod.Path, Version: v, PURL: "pkg:golang/" + r.Mod.Path + "@" + v})
	}
	return out, nil
}

func govulncheck(ctx context.Context, project, osvDir string) (map[string][]string, []string, error) {
	var stdout, stderr bytes.Buffer
	cmd := scan.Command(ctx, "-C", project, "-db", "file://"+osvDir, "-scan", "module", "-format", "json")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local")
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	if err := cmd.Wait(); err != nil {
		return nil, nil, fmt.Errorf("%w: %s", err, stderr.String())
	}
	found := map[string][]string{}
	var mods []string
	dec := json.NewDecoder(&stdout)
	for {
		var msg struct {
			Finding *struct {
				OSV   string `json:"osv"`
				Trace []struct {
					Module string `json:"module"`
				} `json:"trace"`
			} `json:"finding"`
			SBOM *struct {
				Roots   []string `json:"roots"`
				Modules []struct {
					Path string `json:"path"`
				} `json:"modules"`
			} `json:"SBOM"`
		}
		if err := dec.Decode(&msg); err == io.EOF {
			break
		} else if err != nil {
			return nil, nil, err
		}
		if msg.SBOM != nil {
			for _, m := range msg.SBOM.Modules {
				if m.Path != "stdlib" && !slices.Contains(msg.SBOM.Roots, m.Path) {
					mods = append(mods, m.Path)
				}
			}
		}
		if msg.Finding == nil || len(msg.Finding.Trace) == 0 {
			continue
		}
		if m := msg.Finding.Trace[0].Module; m != "stdlib" && m != "toolchain" {
			found[m] = append(found[m], msg.Finding.OSV)
		}
	}
	for k, v := range found {
		found[k] = uniq(v)
	}
	sort.Strings(mods)
	return found, mods, nil
}

func compare(want, got map[string][]string) string {
	var b strings.Builder
	keys := map[string]bool{}
	for k := range want {
		keys[k] = true
	}
	for k := range got {
		keys[k] = true
	}
	var sorted []string
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		if !slices.Equal(want[k], got[k]) {
			fmt.Fprintf(&b, "  %s: govulncheck %v, hallmark %v\n", k, want[k], got[k])
		}
	}
	return b.String()
}

func uniq(v []string) []string {
	sort.Strings(v)
	return slices.Compact(v)
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func round(d []time.Duration) []string {
	var out []string
	for _, x := range d {
		out = append(out, x.Round(time.Millisecond).String())
	}
	return out
}
