package hallmark.builtin.v1.rules.reproducible_test

import data.hallmark.builtin.v1.fixture
import data.hallmark.builtin.v1.rules.reproducible

test_reproducible_pass if {
	fixture.ids(reproducible.violations) == set() with input as fixture.ok with data.hallmark.params as fixture.params
}

test_reproducible_fail_mismatch if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/rebuilds/1/matched", "value": false}])
	fixture.ids(reproducible.violations) == {"reproducible.mismatch", "reproducible.insufficient"} with input as inp with data.hallmark.params as fixture.params
}

test_reproducible_fail_digest_not_in_subjects if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/rebuilds/1/subjects", "value": [fixture.other]}])
	fixture.ids(reproducible.violations) == {"reproducible.mismatch", "reproducible.insufficient"} with input as inp with data.hallmark.params as fixture.params
}

test_reproducible_fail_same_key if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/rebuilds/1/signer/keyId", "value": "kr1"}])
	fixture.ids(reproducible.violations) == {"reproducible.insufficient"} with input as inp with data.hallmark.params as fixture.params
}

test_reproducible_fail_untrusted_rebuilder if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/rebuilds/1/signer/roles", "value": []}])
	fixture.ids(reproducible.violations) == {"reproducible.insufficient"} with input as inp with data.hallmark.params as fixture.params
}

test_reproducible_pass_other_artifact_rebuild_ignored if {
	inp := fixture.patched([{"op": "add", "path": "/evidence/rebuilds/-", "value": {"id": "rb3", "signer": {"keyId": "kr3", "roles": ["rebuilder"]}, "timestamp": fixture.ts, "subjects": [fixture.other], "artifact": fixture.other, "matched": false}}])
	fixture.ids(reproducible.violations) == set() with input as inp with data.hallmark.params as fixture.params
}

test_reproducible_dirty_rebuild_does_not_count if {
	inp := fixture.patched([{"op": "add", "path": "/evidence/rebuilds/1/sourceDirty", "value": true}])
	some v in reproducible.violations with input as inp with data.hallmark.params as fixture.params
	v.ruleId == "reproducible.insufficient"
	contains(v.message, "1 rebuild(s) from a dirty tree do not count")
}
