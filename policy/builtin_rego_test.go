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
