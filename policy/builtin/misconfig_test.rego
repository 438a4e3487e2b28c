package hallmark.builtin.v1.rules.misconfig_test

import data.hallmark.builtin.v1.fixture
import data.hallmark.builtin.v1.rules.misconfig

test_misconfig_pass if {
	fixture.ids(misconfig.violations) == set() with input as fixture.ok with data.hallmark.params as fixture.params
}

test_misconfig_fail_medium if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/misconfig/0/findings/0/severity", "value": "medium"}])
	fixture.ids(misconfig.violations) == {"misconfig.finding"} with input as inp with data.hallmark.params as fixture.params
}

test_misconfig_fail_suppressed_not_honoured if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/misconfig/0/findings/0/severity", "value": "high"}, {"op": "add", "path": "/evidence/misconfig/0/findings/0/suppressed", "value": true}])
	fixture.ids(misconfig.violations) == {"misconfig.finding"} with input as inp with data.hallmark.params as fixture.params
}

test_misconfig_fail_missing if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/misconfig", "value": []}])
	fixture.ids(misconfig.violations) == {"misconfig.scan_missing"} with input as inp with data.hallmark.params as fixture.params
}
