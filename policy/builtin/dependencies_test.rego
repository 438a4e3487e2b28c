package hallmark.builtin.v1.rules.dependencies_test

import data.hallmark.builtin.v1.fixture
import data.hallmark.builtin.v1.rules.dependencies

test_dependencies_pass if {
	fixture.ids(dependencies.violations) == set() with input as fixture.ok with data.hallmark.params as fixture.params
}

test_dependencies_fail_denied if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/sbom/0/components/0/purl", "value": "pkg:npm/event-stream@3.3.6"}])
	fixture.ids(dependencies.violations) == {"dependencies.denied"} with input as inp with data.hallmark.params as fixture.params
}

test_dependencies_pass_prefix_is_not_a_match if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/sbom/0/components/0/purl", "value": "pkg:npm/event-stream-lite@1.0.0"}])
	fixture.ids(dependencies.violations) == set() with input as inp with data.hallmark.params as fixture.params
}

test_dependencies_fail_versionless_pattern_matches_every_version if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/sbom/0/components/0/purl", "value": "pkg:pypi/ctx@0.1.2"}])
	params := object.union(fixture.params, {"dependencies": {"denied": ["pkg:pypi/ctx"]}})
	fixture.ids(dependencies.violations) == {"dependencies.denied"} with input as inp with data.hallmark.params as params
}

test_dependencies_pass_versionless_pattern_is_not_a_prefix if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/sbom/0/components/0/purl", "value": "pkg:pypi/ctx-extra@0.1.2"}])
	params := object.union(fixture.params, {"dependencies": {"denied": ["pkg:pypi/ctx"]}})
	fixture.ids(dependencies.violations) == set() with input as inp with data.hallmark.params as params
}
