# METADATA
# title: Hallmark built-in policy, decision (v1)
# description: >-
#   The entrypoint of the built-in policy: the union of the violations of the
#   rule groups listed in data.hallmark.params.rules (see presets.yaml), the
#   allow verdict and the SLSA build level met.
package hallmark.builtin.v1

import data.hallmark.builtin.v1.levels
import data.hallmark.params

# known lists the rule groups of this library version.
known := {
	"slsa_l1", "slsa_l2", "slsa_l3", "source", "reproducible", "vulns", "sbom",
	"licenses", "dependencies", "misconfig", "secrets", "tee", "approvals", "freshness",
	"transparency", "identity",
}

violations contains v if {
	some name in params.rules
	known[name]
	some v in data.hallmark.builtin.v1.rules[name].violations
}

violations contains {
	"ruleId": "policy.unknown_rule",
	"message": sprintf("the policy selects rule group %q, which built-in library v1 does not have", [name]),
	"remediation": "Fix the rule name in the preset file.",
	"evidence": [],
} if {
	some name in params.rules
	not known[name]
}

violations contains {
	"ruleId": "policy.no_rules",
	"message": "the policy parameters select no rule group, so nothing would be checked",
	"remediation": "List the rule groups to enforce under rules: in the preset file.",
	"evidence": [],
} if not has_rules

has_rules if count(params.rules) > 0

decision := {
	"allow": count(violations) == 0,
	"violations": violations,
	"slsaBuildLevel": levels.slsa_build_level,
	"sourceDirty": levels.source_dirty,
}
