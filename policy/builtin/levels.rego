# METADATA
# title: SLSA build level met by the evidence
# description: >-
#   slsa_build_level is the highest SLSA Build level (0-3) the verified
#   evidence meets, whatever rules are selected; the gate reports it in the
#   VSA's verifiedLevels. source_dirty holds when a provenance of the artifact
#   records a dirty tree or tracked files changed by the build; the gate then
#   adds HALLMARK_SOURCE_DIRTY to verifiedLevels, whatever the verdict.
package hallmark.builtin.v1.levels

import data.hallmark.builtin.v1.rules.slsa_l1
import data.hallmark.builtin.v1.rules.slsa_l2
import data.hallmark.builtin.v1.rules.slsa_l3

slsa_build_level := 3 if {
	slsa_l3.met
} else := 2 if {
	slsa_l2.met
} else := 1 if {
	slsa_l1.met
} else := 0

default source_dirty := false

source_dirty := true if {
	some p in slsa_l1.provenance
	object.get(p, ["externalParameters", "source", "dirty"], false) != false
}

source_dirty := true if {
	some p in slsa_l1.provenance
	count(object.get(p, ["externalParameters", "source", "modifiedByBuild"], [])) > 0
}
