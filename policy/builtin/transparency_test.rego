package hallmark.builtin.v1.rules.transparency_test

import data.hallmark.builtin.v1.fixture
import data.hallmark.builtin.v1.rules.transparency

test_transparency_pass if {
	fixture.ids(transparency.violations) == set() with input as fixture.ok with data.hallmark.params as fixture.params
}

test_transparency_fail_unlogged_provenance if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/provenance/0/logged", "value": false}])
	fixture.ids(transparency.violations) == {"transparency.unlogged"} with input as inp with data.hallmark.params as fixture.params
}

test_transparency_fail_missing_logged_field if {
	inp := fixture.patched([{"op": "remove", "path": "/evidence/approvals/1/logged"}])
	fixture.ids(transparency.violations) == {"transparency.unlogged"} with input as inp with data.hallmark.params as fixture.params
}

test_transparency_fail_untimestamped_approval if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/approvals/0/timestamped", "value": false}])
	fixture.ids(transparency.violations) == {"transparency.untimestamped"} with input as inp with data.hallmark.params as fixture.params
}

test_transparency_fail_names_only_the_unlogged_item if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/approvals/1/logged", "value": false}])
	[v.evidence | some v in transparency.violations] == [["ap2"]] with input as inp with data.hallmark.params as fixture.params
}

test_transparency_pass_kind_not_listed if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/sbom/0/logged", "value": false}, {"op": "replace", "path": "/evidence/provenance/0/timestamped", "value": false}])
	fixture.ids(transparency.violations) == set() with input as inp with data.hallmark.params as fixture.params
}

test_transparency_pass_item_about_another_artifact if {
	inp := fixture.patched([{"op": "add", "path": "/evidence/provenance/-", "value": {"id": "elsewhere", "signer": {"keyId": "kb", "roles": ["builder"]}, "timestamp": fixture.ts, "subjects": [fixture.other], "logged": false}}])
	fixture.ids(transparency.violations) == set() with input as inp with data.hallmark.params as fixture.params
}
