# METADATA
# title: Denied dependencies
# description: >-
#   No component of a trusted SBOM may match a package URL glob in
#   params.dependencies.denied ('*' matches any run of characters, e.g.
#   "pkg:npm/event-stream@3.3.6" or "pkg:golang/github.com/evil/*"). A
#   pattern without a version matches every version, as in depcheck. The
#   gate puts purls in canonical form (qualifiers and subpath dropped, name
#   case folded where the purl type is case-insensitive) and the preset's
#   patterns are canonicalised the same way.
package hallmark.builtin.v1.rules.dependencies

import data.hallmark.builtin.v1.lib
import data.hallmark.builtin.v1.rules.sbom
import data.hallmark.params

# purls is an array: a set of hundreds of distinct strings costs far more to
# build, and duplicates do no harm here.
purls := [c.purl |
	some s in sbom.sboms
	some c in s.components
]

# prefixes are the literal beginnings of the denied patterns, up to their
# first glob metacharacter: a purl that starts with none of them matches
# no pattern, which one builtin call over the whole set establishes.
prefixes := {regex.replace(pattern, `[*?\[{\\].*$`, "") | some pattern in params.dependencies.denied}

candidates := {p | some p in purls; strings.any_prefix_match(p, prefixes)} if {
	strings.any_prefix_match(purls, prefixes)
} else := set()

violations contains v if {
	some purl in candidates
	some pattern in params.dependencies.denied
	matches(pattern, purl)
	v := lib.violation(
		"dependencies.denied",
		sprintf("component %s matches denied dependency %s", [purl, pattern]),
		"Remove or replace the dependency (check which direct dependency pulls it in) and rebuild.",
		[s.id | some s in sbom.sboms; some c in s.components; c.purl == purl],
	)
}

# matches holds when purl matches the glob pattern; a pattern naming no
# version ("pkg:pypi/ctx", "pkg:npm/@evil/*") matches every version.
matches(pattern, purl) if glob.match(pattern, null, purl)

matches(pattern, purl) if {
	not regex.match(`@[^/]*$`, pattern)
	glob.match(concat("", [pattern, "@*"]), null, purl)
}
