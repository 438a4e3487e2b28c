# METADATA
# title: m-of-n approvals
# description: >-
#   At least params.approvals.min distinct people trusted for the approver
#   role (signer.person: several keys or identities of one person count
#   once; a signer without a person counts as its own) must have approved this artifact digest for this environment
#   (input.context.environment). Approvals for another artifact or another
#   environment never count; several approvals by one key count once; when
#   params.approvals.maxAgeDays is above zero, older approvals do not count.
package hallmark.builtin.v1.rules.approvals

import data.hallmark.builtin.v1.lib
import data.hallmark.params

applies(a) if {
	lib.has_role(a, "approver")
	a.artifact == input.artifact.digest
	a.environment == input.context.environment
	recent(a)
}

recent(_) if params.approvals.maxAgeDays == 0

recent(a) if lib.within_days(a.timestamp, params.approvals.maxAgeDays)

# approvers is the set of distinct trusted approvers (people) that count.
approvers := {person(a) | some a in counted}

person(a) := object.get(a.signer, "person", a.signer.keyId)

counted := [a |
	some a in input.evidence.approvals
	applies(a)
]

not_counted := [a |
	some a in input.evidence.approvals
	not applies(a)
]

violations contains v if {
	count(approvers) < params.approvals.min
	other := count(not_counted)
	v := lib.violation(
		"approvals.insufficient",
		sprintf("%d of %d required approvals for %s in %s by distinct trusted approvers%s%s", [
			count(approvers), params.approvals.min, input.artifact.digest, input.context.environment,
			not_counted_note(other), lib.ignored_note("approvals"),
		]),
		sprintf("Ask approvers listed in the trust file to run `hallmark approve %s --env %s`.", [input.artifact.digest, input.context.environment]),
		lib.ids(counted),
	)
}

not_counted_note(0) := ""

not_counted_note(n) := sprintf(" (%d approval(s) for another artifact or environment, by an untrusted key, or too old did not count)", [n]) if n > 0
