package cli

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/policy"
)

type policyTestFlags struct {
	format  string
	verbose bool
}

func newPolicyCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{Use: "policy", Short: "Test policies and show the built-in presets"}
	var f policyTestFlags
	test := &cobra.Command{
		Use:   "test DIR [--format text|json] [-v]",
		Short: "Run the Rego tests (test_* rules) of the policy in DIR",
		Long: `Runs every test_* rule of the .rego files under DIR with OPA's tester, with
Hallmark's built-in policy library loaded and the same restrictions as the gate
(no network, no randomness, strict built-in errors). data.json and data.yaml
files are loaded as opa test loads them. Exits 0 when every test passes (todo_test_*
rules are skipped), 1 when a test fails or errors, 3 when DIR cannot be loaded or
compiled.`,
		Args: argsUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.format != "text" && f.format != "json" {
				return usageError(fmt.Errorf("--format %q: want text or json", f.format))
			}
			results, err := policy.Test(contextOf(cmd), args[0])
			if err != nil {
				return badInput(err)
			}
			failed := 0
			for _, r := range results {
				if !r.Pass && !r.Skip {
					failed++
				}
			}
			if f.format == "json" {
				enc := json.NewEncoder(app.Stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(results); err != nil {
					return environmentErr(err)
				}
			} else {
				printTestResults(app, results, f.verbose)
			}
			if failed > 0 {
				return rejected(fmt.Errorf("%d of %d policy tests in %s failed", failed, len(results), args[0]))
			}
			return nil
		},
	}
	test.Flags().StringVar(&f.format, "format", "text", "text or json")
	test.Flags().BoolVarP(&f.verbose, "verbose", "v", false, "also list passing tests")
	presets := &cobra.Command{
		Use:   "presets",
		Short: "Print the built-in preset file (dev, staging, prod), a starting point for your own",
		Args:  argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := app.Stdout.Write(policy.BuiltinPresetsYAML())
			return err
		},
	}
	cmd.AddCommand(test, presets)
	return cmd
}

// printTestResults writes one line per failing, erroring or skipped test
// (and passing ones when verbose), with print() output, then a summary.
func printTestResults(app *App, results []policy.TestResult, verbose bool) {
	var pass, fail, errs, skip int
	for _, r := range results {
		switch {
		case r.Skip:
			skip++
		case r.Pass:
			pass++
		case r.Err != "":
			errs++
		default:
			fail++
		}
		if r.Pass && !verbose {
			continue
		}
		fmt.Fprintf(app.Stdout, "%s  %s\n", r, r.Location)
		if out := strings.TrimSpace(r.Output); out != "" && !r.Pass {
			for line := range strings.SplitSeq(out, "\n") {
				fmt.Fprintf(app.Stdout, "    %s\n", line)
			}
		}
	}
	total := len(results)
	summary := []string{fmt.Sprintf("PASS: %d/%d", pass, total)}
	for _, c := range []struct {
		name string
		n    int
	}{{"FAIL", fail}, {"ERROR", errs}, {"SKIPPED", skip}} {
		if c.n > 0 {
			summary = append(summary, fmt.Sprintf("%s: %d/%d", c.name, c.n, total))
		}
	}
	fmt.Fprintln(app.Stdout, strings.Join(summary, ", "))
}
