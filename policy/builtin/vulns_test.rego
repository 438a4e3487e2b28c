package hallmark.builtin.v1.rules.vulns_test

import data.hallmark.builtin.v1.fixture
import data.hallmark.builtin.v1.rules.vulns

test_vulns_pass if {
	fixture.ids(vulns.violations) == set() with input as fixture.ok with data.hallmark.params as fixture.params
}

test_vulns_fail_fixable_high if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/vulns/0/findings/1/fixAvailable", "value": true}])
	fixture.ids(vulns.violations) == {"vulns.fixable"} with input as inp with data.hallmark.params as fixture.params
}

test_vulns_pass_vex_not_affected if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/vulns/0/findings/1/fixAvailable", "value": true}, {"op": "replace", "path": "/evidence/vulns/0/findings/1/vexStatus", "value": "not_affected"}])
	fixture.ids(vulns.violations) == set() with input as inp with data.hallmark.params as fixture.params
}

test_vulns_fail_vex_under_investigation if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/vulns/0/findings/1/fixAvailable", "value": true}, {"op": "replace", "path": "/evidence/vulns/0/findings/1/vexStatus", "value": "under_investigation"}])
	fixture.ids(vulns.violations) == {"vulns.fixable"} with input as inp with data.hallmark.params as fixture.params
}

test_vulns_fail_unknown_severity if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/vulns/0/findings/0/severity", "value": "unknown"}])
	fixture.ids(vulns.violations) == {"vulns.unknown_severity"} with input as inp with data.hallmark.params as fixture.params
}

test_vulns_fail_unrecognised_severity_is_unknown if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/vulns/0/findings/0/severity", "value": "severe"}])
	fixture.ids(vulns.violations) == {"vulns.unknown_severity"} with input as inp with data.hallmark.params as fixture.params
}

test_vulns_fail_stale_scan if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/vulns/0/scannedAt", "value": "2025-11-23T12:00:00Z"}])
	fixture.ids(vulns.violations) == {"vulns.scan_stale"} with input as inp with data.hallmark.params as fixture.params
}

test_vulns_fail_stale_database if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/vulns/0/databaseUpdatedAt", "value": "2025-11-20T12:00:00Z"}])
	fixture.ids(vulns.violations) == {"vulns.database_stale"} with input as inp with data.hallmark.params as fixture.params
}

test_vulns_fail_missing if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/vulns", "value": []}])
	fixture.ids(vulns.violations) == {"vulns.scan_missing"} with input as inp with data.hallmark.params as fixture.params
}

test_vulns_fail_untrusted_scanner if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/vulns/0/signer/roles", "value": ["approver"]}])
	fixture.ids(vulns.violations) == {"vulns.scan_missing"} with input as inp with data.hallmark.params as fixture.params
}

test_vulns_fail_missing_scan_time_is_not_fresh if {
	inp := fixture.patched([{"op": "remove", "path": "/evidence/vulns/0/scannedAt"}])
	fixture.ids(vulns.violations) == {"vulns.scan_stale"} with input as inp with data.hallmark.params as fixture.params
}

test_vulns_fail_future_dated_scan if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/vulns/0/scannedAt", "value": "2099-01-01T00:00:00Z"}])
	fixture.ids(vulns.violations) == {"vulns.scan_stale"} with input as inp with data.hallmark.params as fixture.params
}

test_vulns_fail_future_dated_database if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/vulns/0/databaseUpdatedAt", "value": "2099-01-01T00:00:00Z"}])
	fixture.ids(vulns.violations) == {"vulns.database_stale"} with input as inp with data.hallmark.params as fixture.params
}
