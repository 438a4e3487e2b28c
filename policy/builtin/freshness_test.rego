package hallmark.builtin.v1.rules.freshness_test

import data.hallmark.builtin.v1.fixture
import data.hallmark.builtin.v1.rules.freshness

test_freshness_pass if {
	fixture.ids(freshness.violations) == set() with input as fixture.ok with data.hallmark.params as fixture.params
}

test_freshness_fail_stale_provenance if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/provenance/0/timestamp", "value": "2025-10-01T00:00:00Z"}])
	fixture.ids(freshness.violations) == {"freshness.stale"} with input as inp with data.hallmark.params as fixture.params
}

test_freshness_pass_one_fresh_item_is_enough if {
	inp := fixture.patched([{"op": "add", "path": "/evidence/provenance/-", "value": {"id": "old", "signer": {"keyId": "kb", "roles": ["builder"]}, "timestamp": "2025-01-01T00:00:00Z", "subjects": [fixture.art]}}])
	fixture.ids(freshness.violations) == set() with input as inp with data.hallmark.params as fixture.params
}

test_freshness_fail_future if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/sbom/0/timestamp", "value": "2025-11-25T13:00:00Z"}])
	fixture.ids(freshness.violations) == {"freshness.future"} with input as inp with data.hallmark.params as fixture.params
}

test_freshness_pass_within_skew if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/sbom/0/timestamp", "value": "2025-11-25T12:04:00Z"}])
	fixture.ids(freshness.violations) == set() with input as inp with data.hallmark.params as fixture.params
}

test_freshness_fail_missing_timestamp_is_not_fresh if {
	inp := fixture.patched([{"op": "remove", "path": "/evidence/provenance/0/timestamp"}])
	fixture.ids(freshness.violations) == {"freshness.stale"} with input as inp with data.hallmark.params as fixture.params
}
