# Shared fixture for the built-in library's tests: an input that passes
# every rule group with params, at time now.
package hallmark.builtin.v1.fixture

now := "2025-11-25T12:00:00Z"

art := "sha256:1111111111111111111111111111111111111111111111111111111111111111"

other := "sha256:2222222222222222222222222222222222222222222222222222222222222222"

ts := "2025-11-25T10:00:00Z"

item(id, key, roles) := {
	"id": id,
	"signer": {"keyId": key, "roles": roles},
	"predicateType": "test",
	"timestamp": ts,
	"subjects": [art],
	"logged": true,
	"timestamped": true,
}

params := {
	"rules": ["slsa_l1", "slsa_l2", "slsa_l3", "source", "reproducible", "vulns", "sbom", "licenses", "dependencies", "misconfig", "secrets", "tee", "approvals", "freshness", "transparency"],
	"slsa": {"builders": ["https://builder.example/v1"]},
	"source": {"repositories": ["https://git.example/app"], "refs": ["refs/heads/main", "refs/tags/v*"], "commits": []},
	"reproducible": {"minRebuilders": 2},
	"vulns": {"failAt": "high", "unknownSeverity": "fail", "maxScanAgeDays": 1, "maxDBAgeDays": 2},
	"licenses": {"denied": ["AGPL-3.0-only"]},
	"dependencies": {"denied": ["pkg:npm/event-stream@*"]},
	"misconfig": {"failAt": "medium", "honorSuppressions": false},
	"secrets": {"failAt": "low", "honorSuppressions": false},
	"tee": {"platforms": ["tdx"], "allowDebug": false, "reference": {"tdx": {"mr_td": ["aa11"]}}},
	"approvals": {"min": 2, "maxAgeDays": 7},
	"freshness": {"maxAgeDays": {"provenance": 30, "vulns": 7}, "clockSkewSeconds": 300},
	"transparency": {"logged": ["provenance", "approvals"], "timestamped": ["approvals"]},
}

ok := {
	"artifact": {"digest": art, "name": "app"},
	"context": {"environment": "prod", "time": now, "requester": "ci"},
	"evidence": {
		"provenance": [object.union(item("prov", "kb", ["builder"]), {
			"builder": {"id": "https://builder.example/v1"},
			"buildType": "https://builder.example/go@v1",
			"externalParameters": {"source": {"repository": "https://git.example/app", "ref": "refs/heads/main", "commit": "0123456789abcdef0123456789abcdef01234567"}},
			"internalParameters": {"sandbox": true, "network": false, "hermetic": true},
			"resolvedDependencies": [],
		})],
		"rebuilds": [
			object.union(item("rb1", "kr1", ["rebuilder"]), {"artifact": art, "matched": true}),
			object.union(item("rb2", "kr2", ["rebuilder"]), {"artifact": art, "matched": true}),
		],
		"sbom": [object.union(item("sbom", "ks", ["scanner"]), {"format": "cyclonedx-1.6", "componentCount": 2, "components": [
			{"name": "left", "version": "1.0.0", "purl": "pkg:npm/left@1.0.0", "licenses": ["MIT"]},
			{"name": "right", "version": "2.0.0", "purl": "pkg:npm/right@2.0.0", "licenses": ["Apache-2.0 OR MIT"]},
		]})],
		"vulns": [object.union(item("vulns", "ks", ["scanner"]), {
			"scanner": "osv", "scannedAt": ts, "databaseUpdatedAt": "2025-11-24T12:00:00Z",
			"findings": [
				{"id": "GHSA-1", "package": "pkg:npm/left@1.0.0", "severity": "medium", "fixAvailable": true, "fixedVersion": "1.0.1", "vexStatus": "", "suppressed": false},
				{"id": "GHSA-2", "package": "pkg:npm/right@2.0.0", "severity": "critical", "fixAvailable": false, "fixedVersion": "", "vexStatus": "", "suppressed": false},
			],
		})],
		"misconfig": [object.union(item("mc", "ks", ["scanner"]), {"scanner": "mc", "scannedAt": ts, "findings": [
			{"ruleId": "HM-DF-001", "title": "t", "severity": "low", "message": "m", "location": {"path": "Dockerfile"}},
		]})],
		"secrets": [object.union(item("sec", "ks", ["scanner"]), {"scanner": "gitleaks", "scannedAt": ts, "findings": []})],
		"tee": [object.union(item("tee", "kb", ["builder"]), {"platform": "tdx", "measurements": {"mr_td": "AA11"}, "debug": false, "verified": true})],
		"approvals": [
			object.union(item("ap1", "ka1", ["approver"]), {"approver": "ka1", "environment": "prod", "artifact": art, "comment": ""}),
			object.union(item("ap2", "ka2", ["approver"]), {"approver": "ka2", "environment": "prod", "artifact": art, "comment": ""}),
		],
	},
	"ignored": [],
}

# patched applies JSON patch operations to the passing input.
patched(ops) := json.patch(ok, ops)

# ids lists the rule IDs of a violation set.
ids(vs) := {v.ruleId | some v in vs}
