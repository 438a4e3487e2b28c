package policy

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestRuleIDsDocumented: every rule ID the built-in library can emit is
// listed in docs/policy.md, and every rule group is described there.
func TestRuleIDsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/policy.md")
	if err != nil {
		t.Fatalf("reading the policy documentation: %v", err)
	}
	re := regexp.MustCompile(`(?:lib\.violation\(\s*|"ruleId": )"([a-z0-9_]+\.[a-z0-9_]+)"`)
	ids := map[string]bool{}
	for _, m := range builtinModules(false) {
		for _, sub := range re.FindAllStringSubmatch(string(m.Source), -1) {
			ids[sub[1]] = true
		}
	}
	if len(ids) < 30 {
		t.Fatalf("found only %d rule IDs in the library; the pattern is stale", len(ids))
	}
	for id := range ids {
		if !strings.Contains(string(doc), "`"+id+"`") {
			t.Errorf("rule ID %s is not documented in docs/policy.md", id)
		}
	}
	for _, g := range ruleGroups {
		found := false
		for line := range strings.SplitSeq(string(doc), "\n") {
			first, _, _ := strings.Cut(strings.TrimPrefix(line, "| "), " |")
			found = found || (strings.HasPrefix(line, "| `") && strings.Contains(first, "`"+g+"`"))
		}
		if !found {
			t.Errorf("rule group %s has no row in docs/policy.md", g)
		}
	}
}
