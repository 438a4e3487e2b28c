# METADATA
# title: SLSA Build L2 (signed provenance from a trusted builder)
package hallmark.builtin.v1.rules.slsa_l2

import data.hallmark.builtin.v1.lib
import data.hallmark.builtin.v1.rules.slsa_l1

# signed is the artifact's provenance signed by a key trusted as a builder.
signed := [p |
	some p in slsa_l1.provenance
	lib.has_role(p, "builder")
]

# met holds when the artifact meets SLSA Build L2.
met if {
	slsa_l1.met
	count(signed) > 0
}

violations contains v if some v in slsa_l1.violations

violations contains v if {
	slsa_l1.met
	count(signed) == 0
	signers := concat(", ", sort({p.signer.keyId | some p in slsa_l1.provenance}))
	v := lib.violation(
		"slsa_l2.untrusted_builder",
		sprintf("provenance for %s is not signed by a key trusted for the builder role (signed by %s)", [input.artifact.digest, signers]),
		"Sign provenance with the build platform's key and list that key under the builder role in the trust file.",
		lib.ids(slsa_l1.provenance),
	)
}
