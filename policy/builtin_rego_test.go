package policy

import (
	"regexp"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

// TestBuiltinRegoTests runs the library's own Rego tests through OPA's
// tester and checks that every rule group has a passing and a failing case.
func TestBuiltinRegoTests(t *testing.T) {
	all := append(builtinModules(false), builtinModules(true)...)
	parsed, err := parseModules(all)
	if err != nil {
		t.Fatal(err)
	}
	modules := map[string]*ast.Module{}
	for i, m := range parsed {
		modules[all[i].Name] = m
	}
	results, err := runTests(t.Context(), modules, map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	if len(results) == 0 {
		t.Fatal("no Rego tests ran")
	}
	names := map[string]bool{}
	for _, r := range results {
		names[r.Name] = true
		if !r.Pass {
			t.Errorf("%s (%s) %s", r, r.Location, r.Output)
		}
	}
	for _, group := range ruleGroups {
		for _, kind := range []string{"pass", "fail"} {
			re := regexp.MustCompile(`^test_` + group + `_` + kind + `(_|$)`)
			found := false
			for n := range names {
				found = found || re.MatchString(n)
			}
			if !found {
				t.Errorf("rule group %s has no Rego test named test_%s_%s...", group, group, kind)
			}
		}
	}
	t.Logf("%d Rego tests: %s", len(results), strings.Join(func() []string {
		var s []string
		for _, r := range results {
			s = append(s, r.Name)
		}
		return s
	}(), " "))
}

// TestBuiltinStrict: the library compiles under OPA's strict mode (no unused
// variables, imports or arguments, no deprecated built-ins).
func TestBuiltinStrict(t *testing.T) {
	all := append(builtinModules(false), builtinModules(true)...)
	parsed, err := parseModules(all)
	if err != nil {
		t.Fatal(err)
	}
	modules := map[string]*ast.Module{}
	for i, m := range parsed {
		modules[all[i].Name] = m
	}
	c := ast.NewCompiler().WithStrict(true).WithCapabilities(capabilities()).WithDefaultRegoVersion(ast.RegoV1)
	if c.Compile(modules); c.Failed() {
		t.Fatal(c.Errors)
	}
}

// TestBuiltinRegoTestsCanFail guards against a Rego trap that made most of
// the library's tests vacuous: in `x with input as i with data.p as p == y`
// the comparison binds to the last `with` value (`as (p == y)`), so the test
// body is just `x`, true whatever x is. Comparisons go before the `with`s.
func TestBuiltinRegoTestsCanFail(t *testing.T) {
	vacuous := regexp.MustCompile(`\bwith\s+\S+\s+as\s+\S+\s*(==|!=|<|>)`)
	for _, m := range builtinModules(true) {
		for i, line := range strings.Split(string(m.Source), "\n") {
			if vacuous.MatchString(line) {
				t.Errorf("%s:%d: comparison after a with modifier binds to its value, so the test cannot fail: %s", m.Name, i+1, strings.TrimSpace(line))
			}
		}
	}
}
