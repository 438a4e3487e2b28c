# METADATA
# title: Transparency
# description: >-
#   Every item about the artifact of each evidence kind listed in
#   params.transparency.logged must have verified with a transparency-log
#   entry against the gate's trusted root (input item field logged), and of
#   each kind in params.transparency.timestamped with an RFC 3161 timestamp
#   (timestamped). Without a trusted root the gate verifies neither, so these
#   kinds are denied: a key that leaked cannot sign evidence into the past
#   unnoticed.
package hallmark.builtin.v1.rules.transparency

import data.hallmark.builtin.v1.lib
import data.hallmark.params

violations contains v if {
	some kind in params.transparency.logged
	its := [i | some i in input.evidence[kind]; lib.about_artifact(i); not i.logged == true]
	count(its) > 0
	v := lib.violation(
		"transparency.unlogged",
		sprintf("%d %s evidence item(s) of %s have no transparency-log entry verified against the trusted root", [count(its), kind, input.artifact.digest]),
		"Sign the evidence with a transparency log (--tlog URL, or HALLMARK_TLOG) and give the gate a trusted root that trusts the log (--trusted-root).",
		lib.ids(its),
	)
}

violations contains v if {
	some kind in params.transparency.timestamped
	its := [i | some i in input.evidence[kind]; lib.about_artifact(i); not i.timestamped == true]
	count(its) > 0
	v := lib.violation(
		"transparency.untimestamped",
		sprintf("%d %s evidence item(s) of %s have no RFC 3161 timestamp verified against the trusted root", [count(its), kind, input.artifact.digest]),
		"Sign the evidence with a timestamp authority (--tsa URL, or HALLMARK_TSA) and give the gate a trusted root that trusts it (--trusted-root).",
		lib.ids(its),
	)
}
