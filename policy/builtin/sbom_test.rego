package hallmark.builtin.v1.rules.sbom_test

import data.hallmark.builtin.v1.fixture
import data.hallmark.builtin.v1.rules.sbom

test_sbom_pass if {
	fixture.ids(sbom.violations) == set() with input as fixture.ok with data.hallmark.params as fixture.params
}

test_sbom_fail_missing if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/sbom", "value": []}])
	fixture.ids(sbom.violations) == {"sbom.missing"} with input as inp with data.hallmark.params as fixture.params
}

test_sbom_fail_other_artifact if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/sbom/0/subjects", "value": [fixture.other]}])
	fixture.ids(sbom.violations) == {"sbom.missing"} with input as inp with data.hallmark.params as fixture.params
}

test_sbom_fail_empty if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/sbom/0/componentCount", "value": 0}])
	fixture.ids(sbom.violations) == {"sbom.empty"} with input as inp with data.hallmark.params as fixture.params
}
