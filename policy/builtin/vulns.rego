# METADATA
# title: Vulnerabilities
# description: >-
#   No finding at or above params.vulns.failAt with a fix available, unless a
#   trusted VEX statement says not_affected (vexStatus). Findings of unknown
#   severity fail when params.vulns.unknownSeverity is "fail" and are ignored
#   when it is "ignore". A scan must exist, must be no older than
#   params.vulns.maxScanAgeDays and its database no older than
#   params.vulns.maxDBAgeDays. The scanner's own "suppressed" flag does not
#   waive a finding.
package hallmark.builtin.v1.rules.vulns

import data.hallmark.builtin.v1.lib
import data.hallmark.params

# scans are the trusted vulnerability scans of the artifact.
scans := [s |
	some s in input.evidence.vulns
	lib.about_artifact(s)
	lib.has_role(s, "scanner")
]

violations contains v if {
	count(scans) == 0
	v := lib.violation(
		"vulns.scan_missing",
		sprintf("no trusted vulnerability scan of %s%s", [input.artifact.digest, lib.ignored_note("vulns")]),
		"Scan the artifact (`hallmark scan vulns`) with a scanner key trusted for the scanner role.",
		[i.id | some i in lib.ignored_of("vulns")],
	)
}

unknown_fails := params.vulns.unknownSeverity == "fail"

blocking(f) if {
	f.fixAvailable == true
	not f.vexStatus == "not_affected"
	lib.at_least(f.severity, params.vulns.failAt, unknown_fails)
}

# blocked pairs each blocking finding with the scan that reported it, in
# one pass over the findings.
blocked := [[s.id, f] |
	some s in scans
	some f in s.findings
	blocking(f)
]

violations contains v if {
	some [id, f] in blocked
	not lib.is_unknown_severity(f.severity)
	fix := object.get(f, "fixedVersion", "")
	v := lib.violation(
		"vulns.fixable",
		sprintf("%s (%s) in %s has a fix available%s", [f.id, f.severity, f["package"], fixed_in(fix)]),
		sprintf("Upgrade %s%s and rebuild, or publish a VEX statement (not_affected) if the vulnerable code is not reachable.", [f["package"], fixed_in(fix)]),
		[id],
	)
}

violations contains v if {
	some [id, f] in blocked
	lib.is_unknown_severity(f.severity)
	v := lib.violation(
		"vulns.unknown_severity",
		sprintf("%s in %s has a fix available and an unknown severity; policy treats unknown as failing", [f.id, f["package"]]),
		sprintf("Upgrade %s and rebuild, or assess the advisory and publish a VEX statement.", [f["package"]]),
		[id],
	)
}

fixed_in(fix) := sprintf(" (fixed in %s)", [fix]) if fix != ""

fixed_in("") := ""

fresh_scan(s) if lib.within_days(s.scannedAt, params.vulns.maxScanAgeDays)

fresh_db(s) if lib.within_days(s.databaseUpdatedAt, params.vulns.maxDBAgeDays)

violations contains v if {
	count(scans) > 0
	not any_fresh_scan
	v := lib.violation(
		"vulns.scan_stale",
		sprintf("the newest vulnerability scan of %s is older than %d days", [input.artifact.digest, params.vulns.maxScanAgeDays]),
		"Scan the artifact again; new vulnerabilities are published every day.",
		lib.ids(scans),
	)
}

any_fresh_scan if {
	some s in scans
	fresh_scan(s)
}

violations contains v if {
	count(scans) > 0
	not any_fresh_db
	v := lib.violation(
		"vulns.database_stale",
		sprintf("every vulnerability scan of %s used a database older than %d days", [input.artifact.digest, params.vulns.maxDBAgeDays]),
		"Update the vulnerability database and scan again.",
		lib.ids(scans),
	)
}

any_fresh_db if {
	some s in scans
	fresh_db(s)
}
