# METADATA
# title: Denied dependencies
# description: >-
#   No component of a trusted SBOM may match a package URL glob in
#   params.dependencies.denied ('*' matches any run of characters, e.g.
#   "pkg:npm/event-stream@3.3.6" or "pkg:golang/github.com/evil/*").
package hallmark.builtin.v1.rules.dependencies

import data.hallmark.builtin.v1.lib
import data.hallmark.builtin.v1.rules.sbom
import data.hallmark.params

violations contains v if {
	some s in sbom.sboms
	some c in s.components
	some pattern in params.dependencies.denied
	glob.match(pattern, null, c.purl)
	v := lib.violation(
		"dependencies.denied",
		sprintf("component %s matches denied dependency %s", [c.purl, pattern]),
		"Remove or replace the dependency (check which direct dependency pulls it in) and rebuild.",
		[s.id],
	)
}
