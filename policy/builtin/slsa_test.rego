package hallmark.builtin.v1.rules.slsa_test

import data.hallmark.builtin.v1.fixture
import data.hallmark.builtin.v1.levels
import data.hallmark.builtin.v1.rules.slsa_l1
import data.hallmark.builtin.v1.rules.slsa_l2
import data.hallmark.builtin.v1.rules.slsa_l3

test_slsa_l3_pass if {
	count(slsa_l3.violations) == 0 with input as fixture.ok with data.hallmark.params as fixture.params
	levels.slsa_build_level == 3 with input as fixture.ok with data.hallmark.params as fixture.params
}

test_slsa_l1_pass if {
	slsa_l1.met with input as fixture.ok
	count(slsa_l1.violations) == 0 with input as fixture.ok
}

test_slsa_l1_fail_no_provenance if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/provenance", "value": []}])
	fixture.ids(slsa_l1.violations) == {"slsa_l1.provenance_missing"} with input as inp
	levels.slsa_build_level == 0 with input as inp with data.hallmark.params as fixture.params
}

test_slsa_l1_fail_names_ignored_provenance if {
	inp := fixture.patched([
		{"op": "replace", "path": "/evidence/provenance", "value": []},
		{"op": "replace", "path": "/ignored", "value": [{"id": "bad", "kind": "provenance", "reason": "signature does not verify"}]},
	])
	some v in slsa_l1.violations with input as inp
	contains(v.message, "signature does not verify")
	v.evidence == ["bad"]
}

test_slsa_l1_fail_other_subject if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/provenance/0/subjects", "value": [fixture.other]}])
	not slsa_l1.met with input as inp
}

test_slsa_l2_pass if {
	slsa_l2.met with input as fixture.ok
	count(slsa_l2.violations) == 0 with input as fixture.ok
}

test_slsa_l2_fail_untrusted_builder if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/provenance/0/signer/roles", "value": ["scanner"]}])
	fixture.ids(slsa_l2.violations) == {"slsa_l2.untrusted_builder"} with input as inp
	levels.slsa_build_level == 1 with input as inp with data.hallmark.params as fixture.params
}

test_slsa_l3_fail_builder_not_allowed if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/provenance/0/builder/id", "value": "https://laptop"}])
	fixture.ids(slsa_l3.violations) == {"slsa_l3.builder_not_allowed"} with input as inp with data.hallmark.params as fixture.params
	levels.slsa_build_level == 2 with input as inp with data.hallmark.params as fixture.params
}

test_slsa_l3_fail_network_on if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/provenance/0/internalParameters/network", "value": true}])
	fixture.ids(slsa_l3.violations) == {"slsa_l3.isolation_not_recorded"} with input as inp with data.hallmark.params as fixture.params
}

test_slsa_l3_fail_isolation_not_recorded if {
	inp := fixture.patched([{"op": "remove", "path": "/evidence/provenance/0/internalParameters/sandbox"}])
	some v in slsa_l3.violations with input as inp with data.hallmark.params as fixture.params
	v.ruleId == "slsa_l3.isolation_not_recorded"
	contains(v.message, "sandbox")
}

test_slsa_l3_includes_lower_levels if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/provenance", "value": []}])
	fixture.ids(slsa_l3.violations) == {"slsa_l1.provenance_missing"} with input as inp with data.hallmark.params as fixture.params
}

test_slsa_l3_fail_shared_writable_cache if {
	inp := fixture.patched([{"op": "add", "path": "/evidence/provenance/0/internalParameters/sharedWritable", "value": ["/var/cache/go-build"]}])
	fixture.ids(slsa_l3.violations) == {"slsa_l3.shared_writable"} with input as inp with data.hallmark.params as fixture.params
	levels.slsa_build_level == 2 with input as inp with data.hallmark.params as fixture.params
}

test_slsa_l3_pass_empty_shared_writable if {
	inp := fixture.patched([{"op": "add", "path": "/evidence/provenance/0/internalParameters/sharedWritable", "value": []}])
	levels.slsa_build_level == 3 with input as inp with data.hallmark.params as fixture.params
}

test_slsa_l3_pass_hosted_builder_declared_l3 if {
	inp := fixture.patched([
		{"op": "replace", "path": "/evidence/provenance/0/internalParameters", "value": {}},
		{"op": "add", "path": "/evidence/provenance/0/signer/hostedBuildLevel", "value": 3},
	])
	fixture.ids(slsa_l3.violations) == set() with input as inp with data.hallmark.params as fixture.params
}

test_slsa_l3_fail_hosted_builder_declared_l2 if {
	inp := fixture.patched([
		{"op": "replace", "path": "/evidence/provenance/0/internalParameters", "value": {}},
		{"op": "add", "path": "/evidence/provenance/0/signer/hostedBuildLevel", "value": 2},
	])
	fixture.ids(slsa_l3.violations) == {"slsa_l3.isolation_not_recorded"} with input as inp with data.hallmark.params as fixture.params
}
