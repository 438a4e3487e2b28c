# METADATA
# title: Evidence freshness
# description: >-
#   For each evidence kind with a limit in params.freshness.maxAgeDays, when
#   the artifact has evidence of that kind, at least one item must be no older
#   than the limit. No evidence may be dated more than
#   params.freshness.clockSkewSeconds after the evaluation time.
package hallmark.builtin.v1.rules.freshness

import data.hallmark.builtin.v1.lib
import data.hallmark.params

kinds := ["provenance", "rebuilds", "sbom", "vulns", "misconfig", "secrets", "tee", "approvals"]

items(kind) := [i | some i in input.evidence[kind]; lib.about_artifact(i)]

violations contains v if {
	some kind, days in params.freshness.maxAgeDays
	its := items(kind)
	count(its) > 0
	not any_fresh(its, days)
	v := lib.violation(
		"freshness.stale",
		sprintf("all %s evidence of %s is older than %d days", [kind, input.artifact.digest, days]),
		sprintf("Produce fresh %s evidence for the artifact and give it to the gate.", [kind]),
		lib.ids(its),
	)
}

any_fresh(its, days) if {
	some i in its
	lib.within_days(i.timestamp, days)
}

violations contains v if {
	some kind in kinds
	some i in input.evidence[kind]
	lib.in_future(i.timestamp, params.freshness.clockSkewSeconds)
	v := lib.violation(
		"freshness.future",
		sprintf("%s evidence %s is dated %s, after the evaluation time %s", [kind, i.id, i.timestamp, input.context.time]),
		"Check the signer's clock; evidence from the future cannot be relied on.",
		[i.id],
	)
}
