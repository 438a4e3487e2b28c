package hallmark.policy_test

import data.hallmark.policy

base := {
	"artifact": {"digest": "sha256:aa", "name": "payments"},
	"context": {"environment": "staging", "time": "2026-11-25T12:00:00Z", "requester": "ci"},
	"evidence": {"provenance": [{
		"id": "sha256:p1",
		"signer": {"keyId": "k1", "roles": ["builder"]},
		"subjects": ["sha256:aa"],
		"timestamp": "2026-11-25T11:00:00Z",
	}]},
	"ignored": [],
}

test_staging_allowed if {
	policy.decision.allow with input as base
}

test_prod_without_ticket_denied if {
	d := policy.decision with input as json.patch(base, [{"op": "replace", "path": "/context/environment", "value": "prod"}])
	not d.allow
	{v.ruleId | some v in d.violations} == {"acme.ticket"}
}

test_unsigned_provenance_denied if {
	d := policy.decision with input as json.patch(base, [{"op": "replace", "path": "/evidence/provenance/0/signer/roles", "value": []}])
	d.slsaBuildLevel == 1
	not d.allow
}

# This test is wrong on purpose: dev is not a managed environment, so the
# policy denies. Hallmark's own tests check that it is reported as failing.
test_dev_allowed_wrong_expectation if {
	policy.decision.allow with input as json.patch(base, [{"op": "replace", "path": "/context/environment", "value": "dev"}])
}

# A test that errors: to_number on a non-numeric string.
test_errors if {
	to_number(base.artifact.name) > 0
}

todo_test_canary_rollout if {
	false
}
