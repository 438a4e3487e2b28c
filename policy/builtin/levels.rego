# METADATA
# title: SLSA build level met by the evidence
# description: >-
#   slsa_build_level is the highest SLSA Build level (0-3) the verified
#   evidence meets, whatever rules are selected; the gate reports it in the
#   VSA's verifiedLevels.
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
