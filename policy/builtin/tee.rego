# METADATA
# title: TEE required, measurements in reference values
# description: >-
#   At least one TEE attestation about the artifact must be verified, from a
#   platform in params.tee.platforms (any when empty), not in debug mode
#   (unless params.tee.allowDebug), with every measurement named in
#   params.tee.reference[platform] equal to one of its reference values
#   (lower-case hex). A platform without reference values never passes.
package hallmark.builtin.v1.rules.tee

import data.hallmark.builtin.v1.lib
import data.hallmark.params

reports := [t |
	some t in input.evidence.tee
	lib.about_artifact(t)
]

platform_allowed(_) if count(params.tee.platforms) == 0

platform_allowed(t) if t.platform in params.tee.platforms

debug_ok(t) if not t.debug == true

debug_ok(_) if params.tee.allowDebug == true

references(t) := r if {
	r := params.tee.reference[t.platform]
} else := {}

# mismatched lists the names of reference measurements t does not match.
mismatched(t) := sort({name |
	some name, allowed in references(t)
	not lower(object.get(t, ["measurements", name], "")) in allowed
})

good(t) if {
	t.verified == true
	platform_allowed(t)
	debug_ok(t)
	count(references(t)) > 0
	count(mismatched(t)) == 0
}

any_good if {
	some t in reports
	good(t)
}

violations contains v if {
	count(reports) == 0
	v := lib.violation(
		"tee.missing",
		sprintf("no TEE attestation names artifact %s%s", [input.artifact.digest, lib.ignored_note("tee")]),
		"Build or run the artifact inside a supported TEE (SEV-SNP, TDX, TPM, Nitro) and give its attestation to the gate.",
		[],
	)
}

violations contains v if {
	not any_good
	some t in reports
	reason := bad_reasons_or_unknown(t)
	v := lib.violation(
		"tee.not_acceptable",
		sprintf("TEE attestation from %s is not acceptable: %s", [t.platform, concat("; ", reason)]),
		"Run in a production (non-debug) TEE whose measurements match the reference values in the trust file, or update the reference values after reviewing the new build.",
		[t.id],
	)
}

bad_reasons_or_unknown(t) := r if {
	r := bad_reasons(t)
	count(r) > 0
} else := ["it does not meet the TEE requirements"]

bad_reasons(t) := sort([r | some [id, r] in bad; id == t.id])

bad contains [t.id, "its evidence did not verify against the vendor roots"] if {
	some t in reports
	not t.verified == true
}

bad contains [t.id, sprintf("platform %s is not allowed", [t.platform])] if {
	some t in reports
	not platform_allowed(t)
}

bad contains [t.id, "it runs in debug mode"] if {
	some t in reports
	not debug_ok(t)
}

bad contains [t.id, sprintf("there are no reference values for platform %s", [t.platform])] if {
	some t in reports
	count(references(t)) == 0
}

bad contains [t.id, sprintf("measurement(s) %s do not match the reference values", [concat(", ", names)])] if {
	some t in reports
	names := mismatched(t)
	count(names) > 0
}
