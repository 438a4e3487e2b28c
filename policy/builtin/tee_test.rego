package hallmark.builtin.v1.rules.tee_test

import data.hallmark.builtin.v1.fixture
import data.hallmark.builtin.v1.rules.tee

test_tee_pass if {
	fixture.ids(tee.violations) == set() with input as fixture.ok with data.hallmark.params as fixture.params
}

test_tee_fail_missing if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/tee", "value": []}])
	fixture.ids(tee.violations) == {"tee.missing"} with input as inp with data.hallmark.params as fixture.params
}

test_tee_fail_debug if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/tee/0/debug", "value": true}])
	fixture.ids(tee.violations) == {"tee.not_acceptable"} with input as inp with data.hallmark.params as fixture.params
}

test_tee_fail_measurement if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/tee/0/measurements/mr_td", "value": "bb22"}])
	fixture.ids(tee.violations) == {"tee.not_acceptable"} with input as inp with data.hallmark.params as fixture.params
}

test_tee_fail_measurement_absent if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/tee/0/measurements", "value": {}}])
	fixture.ids(tee.violations) == {"tee.not_acceptable"} with input as inp with data.hallmark.params as fixture.params
}

test_tee_fail_unverified if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/tee/0/verified", "value": false}])
	fixture.ids(tee.violations) == {"tee.not_acceptable"} with input as inp with data.hallmark.params as fixture.params
}

test_tee_fail_platform if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/tee/0/platform", "value": "sev-snp"}])
	fixture.ids(tee.violations) == {"tee.not_acceptable"} with input as inp with data.hallmark.params as fixture.params
}

test_tee_fail_no_reference_values_for_platform if {
	params := json.patch(fixture.params, [{"op": "replace", "path": "/tee/reference", "value": {"sev-snp": {"measurement": ["aa"]}}}])
	some v in tee.violations with input as fixture.ok with data.hallmark.params as params
	v.ruleId == "tee.not_acceptable"
	contains(v.message, "no reference values for platform tdx")
}

test_tee_fail_measurements_field_missing if {
	inp := fixture.patched([{"op": "remove", "path": "/evidence/tee/0/measurements"}])
	fixture.ids(tee.violations) == {"tee.not_acceptable"} with input as inp with data.hallmark.params as fixture.params
}
