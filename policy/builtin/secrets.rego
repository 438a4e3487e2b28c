# METADATA
# title: Secret findings
# description: >-
#   A trusted secrets scan of the artifact must exist and report no
#   finding at or above params.secrets.failAt. Unknown severities count as
#   failing. Findings the scanner marked suppressed count unless
#   params.secrets.honorSuppressions is true.
package hallmark.builtin.v1.rules.secrets

import data.hallmark.builtin.v1.lib
import data.hallmark.params

scans := [s |
	some s in input.evidence.secrets
	lib.about_artifact(s)
	lib.has_role(s, "scanner")
]

violations contains v if {
	count(scans) == 0
	v := lib.violation(
		"secrets.scan_missing",
		sprintf("no trusted secrets scan of %s%s", [input.artifact.digest, lib.ignored_note("secrets")]),
		"Scan the source and artifact for secrets (`hallmark scan --secrets`) with a key trusted for the scanner role.",
		[],
	)
}

counts(f) if not f.suppressed == true

counts(f) if {
	f.suppressed == true
	not params.secrets.honorSuppressions == true
}

violations contains v if {
	some s in scans
	some f in s.findings
	counts(f)
	lib.at_least(f.severity, params.secrets.failAt, true)
	v := lib.violation(
		"secrets.finding",
		sprintf("%s (%s) at %s: %s", [f.ruleId, f.severity, f.location.path, f.title]),
		object.get(f, "remediation", "Revoke and rotate the credential, remove it from the source and history, and scan again."),
		[s.id],
	)
}
