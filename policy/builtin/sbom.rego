# METADATA
# title: SBOM present
# description: >-
#   A trusted SBOM (signed by a key with the scanner or builder role) names
#   the artifact and lists at least one component.
package hallmark.builtin.v1.rules.sbom

import data.hallmark.builtin.v1.lib

# sboms are the trusted SBOMs of the artifact.
sboms := [s |
	some s in input.evidence.sbom
	lib.about_artifact(s)
	trusted(s)
]

trusted(s) if lib.has_role(s, "scanner")

trusted(s) if lib.has_role(s, "builder")

violations contains v if {
	count(sboms) == 0
	v := lib.violation(
		"sbom.missing",
		sprintf("no trusted SBOM names artifact %s%s", [input.artifact.digest, lib.ignored_note("sbom")]),
		"Generate an SBOM for the artifact (`hallmark sbom`) signed by a scanner or builder key and give it to the gate.",
		[i.id | some i in lib.ignored_of("sbom")],
	)
}

violations contains v if {
	count(sboms) > 0
	every s in sboms {
		s.componentCount == 0
	}
	v := lib.violation(
		"sbom.empty",
		sprintf("every SBOM of %s lists zero components", [input.artifact.digest]),
		"Check that the SBOM generator saw the artifact's dependencies (lock files, module info) and generate it again.",
		lib.ids(sboms),
	)
}
