# METADATA
# title: SLSA Build L3 (allowlisted builder, isolated and hermetic build)
package hallmark.builtin.v1.rules.slsa_l3

import data.hallmark.builtin.v1.lib
import data.hallmark.builtin.v1.rules.slsa_l2
import data.hallmark.params

allowed_builder(p) if p.builder.id in params.slsa.builders

# isolated holds when the provenance records all three isolation properties
# (a property that is not recorded does not count) and no writable path
# shared with other builds: SLSA v1.0 Build L3 requires that one build
# cannot influence another (a shared writable cache caps the level at L2).
isolated(p) if {
	p.internalParameters.sandbox == true
	p.internalParameters.network == false
	p.internalParameters.hermetic == true
	count(shared_writable(p)) == 0
}

shared_writable(p) := object.get(p, ["internalParameters", "sharedWritable"], [])

# A hosted builder the trust file declares at SLSA Build L3 (a keyless
# identity, such as a reusable workflow of the SLSA GitHub generator) isolates
# builds by its design, as slsa-verifier decides from the signing identity:
# its provenance does not record Hallmark's sandbox fields.
isolated(p) if object.get(p, ["signer", "hostedBuildLevel"], 0) >= 3

# hardened is the builder-signed provenance that also meets L3.
hardened := [p |
	some p in slsa_l2.signed
	allowed_builder(p)
	isolated(p)
]

# met holds when the artifact meets SLSA Build L3.
met if {
	slsa_l2.met
	count(hardened) > 0
}

violations contains v if some v in slsa_l2.violations

violations contains v if {
	slsa_l2.met
	count(hardened) == 0
	some p in slsa_l2.signed
	not allowed_builder(p)
	v := lib.violation(
		"slsa_l3.builder_not_allowed",
		sprintf("builder %q is not in the allowlist of SLSA L3 builders", [p.builder.id]),
		"Build on an allowlisted hardened builder, or add this builder ID to params slsa.builders after reviewing it.",
		[p.id],
	)
}

missing_isolation(p) := sort({name |
	some name, want in {"sandbox": true, "network": false, "hermetic": true}
	object.get(p, ["internalParameters", name], null) != want
})

violations contains v if {
	slsa_l2.met
	count(hardened) == 0
	some p in slsa_l2.signed
	count(shared_writable(p)) > 0
	v := lib.violation(
		"slsa_l3.shared_writable",
		sprintf("the build could write to paths shared with other builds (%s), so builds can influence each other", [concat(", ", shared_writable(p))]),
		"Build without shared writable caches (no --cache-dir) into empty output directories, so each build starts from nothing another build left.",
		[p.id],
	)
}

violations contains v if {
	slsa_l2.met
	count(hardened) == 0
	some p in slsa_l2.signed
	object.get(p, ["signer", "hostedBuildLevel"], 0) < 3
	count(missing_isolation(p)) > 0
	v := lib.violation(
		"slsa_l3.isolation_not_recorded",
		sprintf("provenance does not record an isolated hermetic build (%s must be sandbox=true, network=false, hermetic=true)", [concat(", ", missing_isolation(p))]),
		"Run the build sandboxed, with the network off and only pinned inputs, on a builder that records this in internalParameters.",
		[p.id],
	)
}
