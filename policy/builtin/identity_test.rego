package hallmark.builtin.v1.rules.identity_test

import data.hallmark.builtin.v1.fixture
import data.hallmark.builtin.v1.rules.identity

gha := {
	"issuer": "https://token.actions.githubusercontent.com",
	"subject": "https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.2.0",
	"repository": "https://github.com/acme/app",
	"ref": "refs/tags/v1.2.0",
	"workflow": "https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.2.0",
	"runnerEnvironment": "github-hosted",
}

params := object.union(fixture.params, {"identity": {
	"repositories": ["https://github.com/acme/app"],
	"refs": ["refs/tags/v*"],
	"workflows": [".github/workflows/release.yml"],
}})

keyless := fixture.patched([
	{"op": "replace", "path": "/evidence/provenance/0/signer/keyId", "value": "identity:acme-release"},
	{"op": "add", "path": "/evidence/provenance/0/signer/identity", "value": gha},
])

test_identity_pass if {
	fixture.ids(identity.violations) == set() with input as keyless with data.hallmark.params as params
}

test_identity_pass_empty_lists_allow_any if {
	p := object.union(fixture.params, {"identity": {"repositories": [], "refs": [], "workflows": []}})
	fixture.ids(identity.violations) == set() with input as keyless with data.hallmark.params as p
}

test_identity_fail_other_repository if {
	inp := json.patch(keyless, [{"op": "replace", "path": "/evidence/provenance/0/signer/identity/repository", "value": "https://github.com/evil/app"}])
	some v in identity.violations with input as inp with data.hallmark.params as params
	v.ruleId == "identity.not_allowed"
	contains(v.message, "repository \"https://github.com/evil/app\" is not allowed")
	v.evidence == ["prov"]
}

test_identity_fail_ref_not_matching if {
	inp := json.patch(keyless, [{"op": "replace", "path": "/evidence/provenance/0/signer/identity/ref", "value": "refs/heads/feature/x"}])
	fixture.ids(identity.violations) == {"identity.not_allowed"} with input as inp with data.hallmark.params as params
}

test_identity_fail_other_workflow if {
	inp := json.patch(keyless, [{"op": "replace", "path": "/evidence/provenance/0/signer/identity/workflow", "value": "https://github.com/acme/app/.github/workflows/debug.yml@refs/tags/v1.2.0"}])
	some v in identity.violations with input as inp with data.hallmark.params as params
	contains(v.message, "workflow \".github/workflows/debug.yml\" is not allowed")
}

test_identity_fail_key_signed if {
	some v in identity.violations with input as fixture.ok with data.hallmark.params as params
	v.ruleId == "identity.not_allowed"
	contains(v.message, "signed with a key")
}

test_identity_fail_no_provenance if {
	inp := fixture.patched([{"op": "replace", "path": "/evidence/provenance", "value": []}])
	fixture.ids(identity.violations) == {"identity.provenance_missing"} with input as inp with data.hallmark.params as params
}

test_identity_fail_untrusted_builder if {
	inp := json.patch(keyless, [{"op": "replace", "path": "/evidence/provenance/0/signer/roles", "value": ["approver"]}])
	fixture.ids(identity.violations) == {"identity.provenance_missing"} with input as inp with data.hallmark.params as params
}
