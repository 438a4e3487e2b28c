# METADATA
# title: Misconfiguration findings
# description: >-
#   A trusted misconfiguration scan of the artifact must exist and report no
#   finding at or above params.misconfig.failAt. Unknown severities count as
#   failing. Findings the scanner marked suppressed count unless
#   params.misconfig.honorSuppressions is true.
package hallmark.builtin.v1.rules.misconfig

import data.hallmark.builtin.v1.lib
import data.hallmark.params

scans := [s |
	some s in input.evidence.misconfig
	lib.about_artifact(s)
	lib.has_role(s, "scanner")
]

violations contains v if {
	count(scans) == 0
	v := lib.violation(
		"misconfig.scan_missing",
		sprintf("no trusted misconfiguration scan of %s%s", [input.artifact.digest, lib.ignored_note("misconfig")]),
		"Scan the build and deployment files (`hallmark scan misconfig`) with a key trusted for the scanner role.",
		[],
	)
}

counts(f) if not f.suppressed == true

counts(f) if {
	f.suppressed == true
	not params.misconfig.honorSuppressions == true
}

violations contains v if {
	some s in scans
	some f in s.findings
	counts(f)
	lib.at_least(f.severity, params.misconfig.failAt, true)
	v := lib.violation(
		"misconfig.finding",
		sprintf("%s (%s) at %s: %s", [f.ruleId, f.severity, f.location.path, f.title]),
		object.get(f, "remediation", "Fix the configuration as the finding describes and scan again."),
		[s.id],
	)
}
