# METADATA
# title: Reproducibility
# description: >-
#   At least params.reproducible.minRebuilders distinct keys trusted for the
#   rebuilder role must have rebuilt the artifact and obtained its digest. A
#   trusted rebuild of this artifact that obtained another digest is a
#   violation whatever the count. A rebuild from a dirty tree (sourceDirty)
#   does not count: its agreement proves little.
package hallmark.builtin.v1.rules.reproducible

import data.hallmark.builtin.v1.lib
import data.hallmark.params

# rebuilds are the trusted rebuilds of this artifact.
rebuilds := [r |
	some r in input.evidence.rebuilds
	r.artifact == input.artifact.digest
	lib.has_role(r, "rebuilder")
]

agrees(r) if {
	r.matched == true
	input.artifact.digest in r.subjects
}

dirty(r) if object.get(r, "sourceDirty", false) != false

# agreeing is the set of distinct rebuilder keys that reproduced the digest
# from a clean tree.
agreeing contains r.signer.keyId if {
	some r in rebuilds
	agrees(r)
	not dirty(r)
}

dirty_note := note if {
	n := count([r | some r in rebuilds; agrees(r); dirty(r)])
	n > 0
	note := sprintf(" (%d rebuild(s) from a dirty tree do not count)", [n])
} else := ""

violations contains v if {
	some r in rebuilds
	not agrees(r)
	v := lib.violation(
		"reproducible.mismatch",
		sprintf("rebuilder %s rebuilt %s and obtained %s", [r.signer.keyId, input.artifact.digest, concat(", ", r.subjects)]),
		"Find the source of non-determinism (`hallmark repro explain` lists differing files), fix the build, and rebuild.",
		[r.id],
	)
}

violations contains v if {
	count(agreeing) < params.reproducible.minRebuilders
	v := lib.violation(
		"reproducible.insufficient",
		sprintf("%d distinct trusted rebuilder(s) reproduced %s, %d required%s%s", [count(agreeing), input.artifact.digest, params.reproducible.minRebuilders, dirty_note, lib.ignored_note("rebuilds")]),
		"Ask more independent rebuilders (keys with the rebuilder role in the trust file) to rebuild the artifact and attest the result.",
		lib.ids(rebuilds),
	)
}
