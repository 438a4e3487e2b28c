// Command policybench measures the evaluation latency of Hallmark's built-in
// prod policy on a realistic input after compilation, and writes the same
// policy, data and input to a directory so that run.sh can time OPA's own
// CLI on exactly the same evaluation.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/policy/policytest"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "policybench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("policybench", flag.ContinueOnError)
	n := fs.Int("n", 10000, "evaluations to time")
	out := fs.String("out", "", "directory to write policy/, data.json, input.json and query.txt for opa eval")
	if err := fs.Parse(args); err != nil {
		return err
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	in := policytest.Sized(now, policytest.Options{Components: 500, Findings: 50, Approvals: 3, Rebuilds: 2})
	params, err := policytest.ProdParams()
	if err != nil {
		return err
	}
	presets, err := policy.BuiltinPresets()
	if err != nil {
		return err
	}
	presets.Environments["prod"] = params
	compileStart := time.Now()
	p, err := policy.CompilePreset(ctx, presets, "prod")
	if err != nil {
		return err
	}
	compile := time.Since(compileStart)

	d, err := p.Eval(ctx, in)
	if err != nil || !d.Allow {
		return fmt.Errorf("the benchmark input must be allowed: %+v, %v", d, err)
	}
	for range 200 { // warm up
		if _, err := p.Eval(ctx, in); err != nil {
			return err
		}
	}
	lat := make([]time.Duration, *n)
	for i := range lat {
		start := time.Now()
		if _, err := p.Eval(ctx, in); err != nil {
			return err
		}
		lat[i] = time.Since(start)
	}
	slices.Sort(lat)
	pct := func(q float64) time.Duration { return lat[min(len(lat)-1, int(q*float64(len(lat))))] }
	var sum time.Duration
	for _, l := range lat {
		sum += l
	}
	report := map[string]any{
		"evaluations": *n,
		"compile_ns":  compile.Nanoseconds(),
		"p50_ns":      pct(0.50).Nanoseconds(),
		"p90_ns":      pct(0.90).Nanoseconds(),
		"p99_ns":      pct(0.99).Nanoseconds(),
		"max_ns":      lat[len(lat)-1].Nanoseconds(),
		"mean_ns":     (sum / time.Duration(len(lat))).Nanoseconds(),
		"components":  len(in.Evidence.SBOM[0].Components),
		"findings":    len(in.Evidence.Vulns[0].Findings),
		"approvals":   len(in.Evidence.Approvals),
		"rebuilds":    len(in.Evidence.Rebuilds),
		"policy":      p.URI(),
		"digest":      p.Digest(),
	}
	if *out != "" {
		if err := writeOPAFiles(*out, p, in); err != nil {
			return err
		}
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(report)
}

// writeOPAFiles writes what `opa eval` needs to evaluate the same decision.
func writeOPAFiles(dir string, p *policy.Policy, in policy.Input) error {
	mods := filepath.Join(dir, "policy")
	if err := os.MkdirAll(mods, 0o755); err != nil {
		return err
	}
	for _, m := range p.Modules() {
		if err := os.WriteFile(filepath.Join(mods, filepath.Base(m.Name)), m.Source, 0o644); err != nil {
			return err
		}
	}
	input, err := policy.InputJSON(in)
	if err != nil {
		return err
	}
	files := map[string][]byte{
		"data.json":  p.DataJSON(),
		"input.json": input,
		"query.txt":  []byte(p.Entrypoint()),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
