# METADATA
# title: SLSA Build levels 1-3 (SLSA v1.0)
# description: >-
#   slsa_l1: provenance exists for the artifact. slsa_l2: the provenance is
#   signed by a key trusted for the builder role. slsa_l3: the builder ID is
#   allowlisted (params.slsa.builders) and the provenance records an isolated,
#   hermetic build (sandbox on, network off, hermetic). Each level includes the
#   violations of the levels below it.
package hallmark.builtin.v1.rules.slsa_l1

import data.hallmark.builtin.v1.lib

# provenance is the verified provenance that names the artifact.
provenance := [p |
	some p in input.evidence.provenance
	lib.about_artifact(p)
]

# met holds when the artifact meets SLSA Build L1.
met if count(provenance) > 0

violations contains v if {
	not met
	ignored := [i.id | some i in lib.ignored_of("provenance")]
	v := lib.violation(
		"slsa_l1.provenance_missing",
		sprintf("no verified provenance names artifact %s%s", [input.artifact.digest, lib.ignored_note("provenance")]),
		"Build the artifact on a builder that emits signed SLSA v1 provenance (e.g. `hallmark build`) and give the provenance bundle to the gate.",
		sort(ignored),
	)
}
