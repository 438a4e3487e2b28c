package hallmark.builtin.v1.rules.secrets_test

import data.hallmark.builtin.v1.fixture
import data.hallmark.builtin.v1.rules.secrets

test_secrets_pass if {
	fixture.ids(secrets.violations) == set() with input as fixture.ok with data.hallmark.params as fixture.params
}

test_secrets_fail_finding if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/secrets/0/findings", "value": [{"ruleId": "generic-api-key", "title": "API key", "severity": "low", "message": "m", "location": {"path": "config.yaml"}}]}])
	fixture.ids(secrets.violations) == {"secrets.finding"} with input as inp with data.hallmark.params as fixture.params
}

test_secrets_fail_unknown_severity if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/secrets/0/findings", "value": [{"ruleId": "x", "title": "x", "severity": "unknown", "message": "m", "location": {"path": "a"}}]}])
	fixture.ids(secrets.violations) == {"secrets.finding"} with input as inp with data.hallmark.params as fixture.params
}

test_secrets_fail_missing if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/secrets", "value": []}])
	fixture.ids(secrets.violations) == {"secrets.scan_missing"} with input as inp with data.hallmark.params as fixture.params
}
