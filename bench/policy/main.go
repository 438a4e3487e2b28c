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
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
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
	opa := fs.String("opa", "", "path to OPA's CLI, built from the go.mod version; when set, time opa eval and opa bench on the same files (needs -out)")
	opaRuns := fs.Int("opa-runs", 30, "opa eval processes to time")
	timeout := fs.Duration("timeout", 30*time.Second, "per-evaluation timeout; generous so that a descheduled evaluation on a loaded machine is measured, not aborted")
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
	p, err := policy.CompilePreset(ctx, presets, "prod", policy.WithTimeout(*timeout))
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
	cpuStart := cpuTime()
	for i := range lat {
		start := time.Now()
		if _, err := p.Eval(ctx, in); err != nil {
			return err
		}
		lat[i] = time.Since(start)
	}
	cpuPerEval := (cpuTime() - cpuStart) / time.Duration(*n)
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
		// CPU time of the process (all threads, GC included) per evaluation:
		// what an evaluation costs when the machine is not oversubscribed.
		"cpu_per_eval_ns": cpuPerEval.Nanoseconds(),
		"components":      len(in.Evidence.SBOM[0].Components),
		"findings":        len(in.Evidence.Vulns[0].Findings),
		"approvals":       len(in.Evidence.Approvals),
		"rebuilds":        len(in.Evidence.Rebuilds),
		"policy":          p.URI(),
		"digest":          p.Digest(),
	}
	if *out != "" {
		if err := writeOPAFiles(*out, p, in); err != nil {
			return err
		}
	}
	if *opa != "" {
		if *out == "" {
			return fmt.Errorf("-opa needs -out")
		}
		cli, err := timeOPA(ctx, *opa, *out, *opaRuns)
		if err != nil {
			return err
		}
		report["opa"] = cli
		if b, ok := cli["bench_query_eval_p50_ns"].(float64); ok && b > 0 {
			report["ratio_p50_hallmark_over_opa_bench"] = float64(pct(0.50)) / b
		}
		if b, ok := cli["bench_query_eval_p99_ns"].(float64); ok && b > 0 {
			report["ratio_p99_hallmark_over_opa_bench"] = float64(pct(0.99)) / b
		}
		if w, ok := cli["eval_wall_p50_ns"].(int64); ok && w > 0 {
			report["ratio_p50_opa_eval_process_over_hallmark"] = float64(w) / float64(pct(0.50))
		}
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(report)
}

// cpuTime returns the user and system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// timeOPA runs `opa eval` runs times (a process each: load, parse, compile,
// evaluate) and `opa bench` once (OPA's in-process hot loop) on the files
// in dir, and returns their timings.
func timeOPA(ctx context.Context, opa, dir string, runs int) (map[string]any, error) {
	query, err := os.ReadFile(filepath.Join(dir, "query.txt"))
	if err != nil {
		return nil, err
	}
	args := []string{"-d", filepath.Join(dir, "policy"), "-d", filepath.Join(dir, "data.json"), "-i", filepath.Join(dir, "input.json"), string(query)}
	var walls, evals []time.Duration
	for range runs {
		start := time.Now()
		outb, err := exec.CommandContext(ctx, opa, append([]string{"eval", "--metrics", "--format", "json"}, args...)...).Output()
		if err != nil {
			return nil, fmt.Errorf("opa eval: %w", err)
		}
		walls = append(walls, time.Since(start))
		var res struct {
			Result []struct {
				Expressions []struct {
					Value struct {
						Allow bool `json:"allow"`
					} `json:"value"`
				} `json:"expressions"`
			} `json:"result"`
			Metrics map[string]int64 `json:"metrics"`
		}
		if err := json.Unmarshal(outb, &res); err != nil {
			return nil, fmt.Errorf("opa eval output: %w", err)
		}
		if len(res.Result) != 1 || !res.Result[0].Expressions[0].Value.Allow {
			return nil, fmt.Errorf("opa eval did not allow: %s", outb)
		}
		evals = append(evals, time.Duration(res.Metrics["timer_rego_query_eval_ns"]))
	}
	slices.Sort(walls)
	slices.Sort(evals)
	q := func(d []time.Duration, f float64) int64 {
		return d[min(len(d)-1, int(f*float64(len(d))))].Nanoseconds()
	}
	outb, err := exec.CommandContext(ctx, opa, append([]string{"bench", "--count", "1", "--format", "json"}, args...)...).Output()
	if err != nil {
		return nil, fmt.Errorf("opa bench: %w", err)
	}
	var bench struct {
		N     int                `json:"N"`
		T     int64              `json:"T"`
		Extra map[string]float64 `json:"Extra"`
	}
	if err := json.Unmarshal(outb, &bench); err != nil {
		return nil, fmt.Errorf("opa bench output: %w", err)
	}
	return map[string]any{
		"eval_runs":                runs,
		"eval_wall_p50_ns":         q(walls, 0.50),
		"eval_wall_p99_ns":         q(walls, 0.99),
		"eval_query_eval_p50_ns":   q(evals, 0.50),
		"eval_query_eval_p99_ns":   q(evals, 0.99),
		"bench_iterations":         bench.N,
		"bench_query_eval_p50_ns":  bench.Extra["histogram_timer_rego_query_eval_ns_median"],
		"bench_query_eval_p99_ns":  bench.Extra["histogram_timer_rego_query_eval_ns_99%"],
		"bench_query_eval_mean_ns": bench.Extra["histogram_timer_rego_query_eval_ns_mean"],
	}, nil
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
