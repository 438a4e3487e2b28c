package policy

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/loader"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"
)

// DefaultTestTimeout bounds each Rego test.
const DefaultTestTimeout = 10 * time.Second

// TestResult is the outcome of one Rego test rule (test_*).
type TestResult struct {
	// Package is the Rego package, e.g. "data.acme.deploy_test".
	Package string `json:"package"`
	// Name is the test rule name.
	Name string `json:"name"`
	// Location is "file:row" of the test.
	Location string `json:"location"`
	// Pass, Skip: the test passed, or was skipped (todo_test_*). A test that
	// neither passed nor was skipped failed; Err then says why when
	// evaluation errored rather than came out false or undefined.
	Pass bool   `json:"pass"`
	Skip bool   `json:"skip,omitempty"`
	Err  string `json:"error,omitempty"`
	// Duration is how long the test ran.
	Duration time.Duration `json:"duration"`
	// Output is what the test printed with print().
	Output string `json:"output,omitempty"`
}

// String renders the result on one line like `opa test`.
func (r TestResult) String() string {
	status := "PASS"
	switch {
	case r.Skip:
		status = "SKIPPED"
	case r.Err != "":
		status = "ERROR: " + r.Err
	case !r.Pass:
		status = "FAIL"
	}
	return fmt.Sprintf("%s.%s: %s (%s)", r.Package, r.Name, status, r.Duration.Round(time.Microsecond))
}

// Test runs the Rego unit tests (rules named test_*) of the policy in dir:
// every .rego file below it, with JSON/YAML data files (data.json,
// data.yaml) placed as `opa test` places them, plus the built-in library, so
// user tests can exercise library rules. Tests run with the same
// capabilities as Eval (no network, no randomness) and builtin errors
// raised. A test failure is a result, not an error; the error reports a
// directory that cannot be loaded or compiled. Results are sorted by
// package and name.
func Test(ctx context.Context, dir string) ([]TestResult, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTest, err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("%w: %s is not a directory", ErrTest, dir)
	}
	loaded, err := loader.NewFileLoader().WithRegoVersion(ast.RegoV1).Filtered([]string{dir}, skipHidden)
	if err != nil {
		return nil, fmt.Errorf("%w: loading %s: %w", ErrTest, dir, err)
	}
	modules := map[string]*ast.Module{}
	for name, m := range loaded.Modules {
		modules[name] = m.Parsed
	}
	if len(modules) == 0 {
		return nil, fmt.Errorf("%w: no .rego files in %s", ErrTest, dir)
	}
	builtin, err := parseModules(BuiltinModules())
	if err != nil {
		return nil, err
	}
	for _, m := range builtin {
		modules[m.Package.Location.File] = m
	}
	data, err := normalizeData(loaded.Documents)
	if err != nil {
		return nil, fmt.Errorf("%w: data in %s: %w", ErrTest, dir, err)
	}
	return runTests(ctx, modules, data)
}

func skipHidden(_ string, info fs.FileInfo, _ int) bool {
	return strings.HasPrefix(info.Name(), ".") && info.Name() != "."
}

// runTests compiles modules with Eval's capabilities and runs their tests.
func runTests(ctx context.Context, modules map[string]*ast.Module, data map[string]any) ([]TestResult, error) {
	compiler := ast.NewCompiler().
		WithCapabilities(capabilities()).
		WithEnablePrintStatements(true).
		WithDefaultRegoVersion(ast.RegoV1)
	ch, err := tester.NewRunner().
		SetCompiler(compiler).
		SetStore(inmem.NewFromObjectWithOpts(data, inmem.OptRoundTripOnWrite(false))).
		SetDefaultRegoVersion(ast.RegoV1).
		CapturePrintOutput(true).
		RaiseBuiltinErrors(true).
		SetTimeout(DefaultTestTimeout).
		SetModules(modules).
		RunTests(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTest, err)
	}
	var out []TestResult
	for r := range ch {
		tr := TestResult{
			Package:  r.Package,
			Name:     r.Name,
			Pass:     r.Pass(),
			Skip:     r.Skip,
			Duration: r.Duration,
			Output:   string(r.Output),
		}
		if r.Location != nil {
			tr.Location = fmt.Sprintf("%s:%d", r.Location.File, r.Location.Row)
		}
		if r.Error != nil {
			tr.Err = r.Error.Error()
		}
		out = append(out, tr)
	}
	slices.SortFunc(out, func(a, b TestResult) int {
		if c := strings.Compare(a.Package, b.Package); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, nil
}
