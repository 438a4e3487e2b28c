package policy_test

import (
	"context"
	"fmt"
	"time"

	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/policy/policytest"
)

// A user policy compiled once and evaluated on one artifact's evidence.
func ExampleCompile() {
	ctx := context.Background()
	src := `package hallmark.policy

import data.hallmark.builtin.v1.levels

violations contains {"ruleId": "acme.slsa", "message": "SLSA Build L3 required", "remediation": "Build on the hardened builder."} if {
	levels.slsa_build_level < 3
}

decision := {"allow": count(violations) == 0, "violations": violations, "slsaBuildLevel": levels.slsa_build_level}
`
	p, err := policy.Compile(ctx, []policy.Module{{Name: "acme.rego", Source: []byte(src)}})
	if err != nil {
		fmt.Println(err)
		return
	}
	in := policytest.Input(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	d, err := p.Eval(ctx, in)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("allow:", d.Allow, "levels:", d.VerifiedLevels)
	for _, v := range d.Violations {
		fmt.Printf("%s: %s (%s)\n", v.RuleID, v.Message, v.Remediation)
	}
	// Output:
	// allow: false levels: [SLSA_BUILD_LEVEL_2]
	// acme.slsa: SLSA Build L3 required (Build on the hardened builder.)
}
