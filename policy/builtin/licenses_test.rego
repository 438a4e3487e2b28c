package hallmark.builtin.v1.rules.licenses_test

import data.hallmark.builtin.v1.fixture
import data.hallmark.builtin.v1.rules.licenses

test_licenses_pass if {
	fixture.ids(licenses.violations) == set() with input as fixture.ok with data.hallmark.params as fixture.params
}

test_licenses_fail_denied if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/sbom/0/components/0/licenses", "value": ["AGPL-3.0-only"]}])
	fixture.ids(licenses.violations) == {"licenses.denied"} with input as inp with data.hallmark.params as fixture.params
}

test_licenses_fail_denied_in_expression if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/sbom/0/components/1/licenses", "value": ["MIT AND (AGPL-3.0-only OR BSD-2-Clause)"]}])
	fixture.ids(licenses.violations) == {"licenses.denied"} with input as inp with data.hallmark.params as fixture.params
}

test_licenses_pass_similar_id if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/sbom/0/components/1/licenses", "value": ["AGPL-3.0-only-WITH-exception"]}])
	fixture.ids(licenses.violations) == set() with input as inp with data.hallmark.params as fixture.params
}

test_licenses_fail_denied_id_in_other_case if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/sbom/0/components/0/licenses", "value": ["mit OR agpl-3.0-only"]}])
	params := object.union(fixture.params, {"licenses": {"denied": ["AGPL-3.0-only"]}})
	fixture.ids(licenses.violations) == {"licenses.denied"} with input as inp with data.hallmark.params as params
}
