package hallmark.builtin.v1.rules.source_test

import data.hallmark.builtin.v1.fixture
import data.hallmark.builtin.v1.rules.source

test_source_pass if {
	fixture.ids(source.violations) == set() with input as fixture.ok with data.hallmark.params as fixture.params
}

test_source_fail_repository if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/provenance/0/externalParameters/source/repository", "value": "https://git.example/fork"}])
	fixture.ids(source.violations) == {"source.repository_not_allowed"} with input as inp with data.hallmark.params as fixture.params
}

test_source_fail_ref if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/provenance/0/externalParameters/source/ref", "value": "refs/heads/dev/x"}])
	fixture.ids(source.violations) == {"source.ref_not_allowed"} with input as inp with data.hallmark.params as fixture.params
}

test_source_pass_tag_glob if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/provenance/0/externalParameters/source/ref", "value": "refs/tags/v1.2.3"}])
	fixture.ids(source.violations) == set() with input as inp with data.hallmark.params as fixture.params
}

test_source_fail_short_commit if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/provenance/0/externalParameters/source/commit", "value": "0123456"}])
	fixture.ids(source.violations) == {"source.commit_not_pinned"} with input as inp with data.hallmark.params as fixture.params
}

test_source_fail_not_recorded if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/provenance/0/externalParameters", "value": {}}])
	fixture.ids(source.violations) == {"source.not_recorded", "source.commit_not_pinned", "source.ref_not_allowed"} with input as inp with data.hallmark.params as fixture.params
}

test_source_fail_no_provenance if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/provenance", "value": []}])
	fixture.ids(source.violations) == {"source.provenance_missing"} with input as inp with data.hallmark.params as fixture.params
}

test_source_fail_dirty if {
	inp := fixture.patched([{"op": "add", "path": "/evidence/provenance/0/externalParameters/source/dirty", "value": true}])
	fixture.ids(source.violations) == {"source.dirty"} with input as inp with data.hallmark.params as fixture.params
}

test_source_pass_clean_recorded if {
	inp := fixture.patched([{"op": "add", "path": "/evidence/provenance/0/externalParameters/source/dirty", "value": false}])
	fixture.ids(source.violations) == set() with input as inp with data.hallmark.params as fixture.params
}

test_source_fail_modified_by_build if {
	inp := fixture.patched([{"op": "add", "path": "/evidence/provenance/0/externalParameters/source/modifiedByBuild", "value": ["gen/version.go"]}])
	some v in source.violations with input as inp with data.hallmark.params as fixture.params
	v.ruleId == "source.modified_by_build"
	contains(v.message, "gen/version.go")
}

test_source_dirty_allowed_explicitly if {
	inp := fixture.patched([
		{"op": "add", "path": "/evidence/provenance/0/externalParameters/source/dirty", "value": true},
		{"op": "add", "path": "/evidence/provenance/0/externalParameters/source/modifiedByBuild", "value": ["a"]},
	])
	prm := json.patch(fixture.params, [{"op": "add", "path": "/source/allowDirtyUnsafe", "value": true}])
	fixture.ids(source.violations) == set() with input as inp with data.hallmark.params as prm
}
