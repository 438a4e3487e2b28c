package hallmark.builtin.v1.rules.approvals_test

import data.hallmark.builtin.v1.fixture
import data.hallmark.builtin.v1.rules.approvals

test_approvals_pass if {
	fixture.ids(approvals.violations) == set() with input as fixture.ok with data.hallmark.params as fixture.params
}

test_approvals_fail_one_approval if {
	inp := fixture.patched([{"op": "remove", "path": "/evidence/approvals/1"}])
	fixture.ids(approvals.violations) == {"approvals.insufficient"} with input as inp with data.hallmark.params as fixture.params
}

test_approvals_fail_other_environment if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/approvals/1/environment", "value": "staging"}])
	fixture.ids(approvals.violations) == {"approvals.insufficient"} with input as inp with data.hallmark.params as fixture.params
}

test_approvals_fail_other_artifact if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/approvals/1/artifact", "value": fixture.other}])
	fixture.ids(approvals.violations) == {"approvals.insufficient"} with input as inp with data.hallmark.params as fixture.params
}

test_approvals_fail_same_approver_twice if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/approvals/1/signer/keyId", "value": "ka1"}])
	fixture.ids(approvals.violations) == {"approvals.insufficient"} with input as inp with data.hallmark.params as fixture.params
}

test_approvals_fail_untrusted_approver if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/approvals/1/signer/roles", "value": ["builder"]}])
	fixture.ids(approvals.violations) == {"approvals.insufficient"} with input as inp with data.hallmark.params as fixture.params
}

test_approvals_fail_too_old if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/approvals/1/timestamp", "value": "2025-11-01T00:00:00Z"}])
	fixture.ids(approvals.violations) == {"approvals.insufficient"} with input as inp with data.hallmark.params as fixture.params
}

test_approvals_fail_message_counts_the_rest if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/approvals/1/environment", "value": "staging"}])
	some v in approvals.violations with input as inp with data.hallmark.params as fixture.params
	contains(v.message, "1 of 2")
	v.evidence == ["ap1"]
}

test_approvals_fail_missing_timestamp_does_not_count if {
	inp := fixture.patched([{"op": "remove", "path": "/evidence/approvals/1/timestamp"}])
	fixture.ids(approvals.violations) == {"approvals.insufficient"} with input as inp with data.hallmark.params as fixture.params
}

# #20.12: an approval dated in the future never ages out, so it must not
# count as recent.
test_approvals_fail_future_dated if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/approvals/1/timestamp", "value": "2099-01-01T00:00:00Z"}])
	fixture.ids(approvals.violations) == {"approvals.insufficient"} with input as inp with data.hallmark.params as fixture.params
}

test_approvals_pass_within_clock_skew if {
	ts := time.format([lib_now_ns + 240 * 1000000000, "UTC", "2006-01-02T15:04:05Z07:00"])
	inp := fixture.patched([{"op": "replace", "path": "/evidence/approvals/1/timestamp", "value": ts}])
	fixture.ids(approvals.violations) == set() with input as inp with data.hallmark.params as fixture.params
}

lib_now_ns := time.parse_rfc3339_ns(fixture.ok.context.time)

test_approvals_fail_two_keys_of_one_person if {
	inp := fixture.patched([
		{"op": "add", "path": "/evidence/approvals/0/signer/person", "value": "alice@example.com"},
		{"op": "add", "path": "/evidence/approvals/1/signer/person", "value": "alice@example.com"},
	])
	fixture.ids(approvals.violations) == {"approvals.insufficient"} with input as inp with data.hallmark.params as fixture.params
}

test_approvals_pass_two_people if {
	inp := fixture.patched([
		{"op": "add", "path": "/evidence/approvals/0/signer/person", "value": "alice@example.com"},
		{"op": "add", "path": "/evidence/approvals/1/signer/person", "value": "bob@example.com"},
	])
	fixture.ids(approvals.violations) == set() with input as inp with data.hallmark.params as fixture.params
}
