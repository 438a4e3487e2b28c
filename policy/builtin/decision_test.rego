package hallmark.builtin.v1.decision_test

import data.hallmark.builtin.v1
import data.hallmark.builtin.v1.fixture

test_decision_allows_passing_input if {
	d := v1.decision with input as fixture.ok with data.hallmark.params as fixture.params
	d.allow == true
	count(d.violations) == 0
	d.slsaBuildLevel == 3
}

test_decision_only_selected_groups if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/approvals", "value": []}])
	params := object.union(fixture.params, {"rules": ["slsa_l1", "sbom"]})
	d := v1.decision with input as inp with data.hallmark.params as params
	d.allow == true
}

test_decision_denies_on_selected_violation if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/approvals", "value": []}])
	d := v1.decision with input as inp with data.hallmark.params as fixture.params
	d.allow == false
	fixture.ids(d.violations) == {"approvals.insufficient"}
}

test_decision_unknown_rule_denies if {
	params := object.union(fixture.params, {"rules": ["sbom", "typo"]})
	d := v1.decision with input as fixture.ok with data.hallmark.params as params
	fixture.ids(d.violations) == {"policy.unknown_rule"}
}

test_decision_no_rules_denies if {
	params := object.remove(fixture.params, ["rules"])
	d := v1.decision with input as fixture.ok with data.hallmark.params as params
	fixture.ids(d.violations) == {"policy.no_rules"}
}
