# METADATA
# title: Provenance from an allowed keyless identity
# description: >-
#   At least one provenance of the artifact, signed by a signer trusted for the
#   builder role, must come from a keyless identity (a Fulcio certificate the
#   gate verified against its trusted root) whose certificate names a source
#   repository in params.identity.repositories, a ref matching one of the
#   globs in params.identity.refs and a workflow file (the path of the
#   certificate's build config URI, e.g. .github/workflows/release.yml)
#   matching one of params.identity.workflows. Empty lists allow any value.
#   The certificate's claims are checked, not the provenance's own: they were
#   issued by Fulcio from the CI's OIDC token, not written by the build.
package hallmark.builtin.v1.rules.identity

import data.hallmark.builtin.v1.lib
import data.hallmark.builtin.v1.rules.slsa_l1
import data.hallmark.params

builder_signed := [p |
	some p in slsa_l1.provenance
	lib.has_role(p, "builder")
]

id(p) := object.get(p, ["signer", "identity"], {})

# workflow_path is the workflow file of the certificate's build config URI:
# "https://github.com/o/r/.github/workflows/x.yml@refs/heads/main" in
# repository "https://github.com/o/r" is ".github/workflows/x.yml".
workflow_path(i) := path if {
	uri := object.get(i, "workflow", "")
	rest := trim_prefix(uri, concat("", [object.get(i, "repository", ""), "/"]))
	path := split(rest, "@")[0]
}

mismatches(p) := {why |
	i := id(p)
	count(i) == 0
	why := "it is signed with a key, not by a keyless identity"
} | {why |
	i := id(p)
	count(i) > 0
	count(params.identity.repositories) > 0
	not object.get(i, "repository", "") in params.identity.repositories
	why := sprintf("repository %q is not allowed", [object.get(i, "repository", "")])
} | {why |
	i := id(p)
	count(i) > 0
	count(params.identity.refs) > 0
	ref := object.get(i, "ref", "")
	not glob_any(params.identity.refs, ref)
	why := sprintf("ref %q matches no allowed ref", [ref])
} | {why |
	i := id(p)
	count(i) > 0
	count(params.identity.workflows) > 0
	wf := workflow_path(i)
	not glob_any(params.identity.workflows, wf)
	why := sprintf("workflow %q is not allowed", [wf])
}

glob_any(patterns, value) if {
	some pattern in patterns
	glob.match(pattern, ["/"], value)
}

allowed := [p |
	some p in builder_signed
	count(mismatches(p)) == 0
]

describe(p) := sprintf("%s (%s)", [p.signer.keyId, concat("; ", sort(mismatches(p)))])

violations contains v if {
	count(allowed) == 0
	count(builder_signed) == 0
	v := lib.violation(
		"identity.provenance_missing",
		sprintf("no provenance for %s signed by a trusted builder, so no identity vouches for its build", [input.artifact.digest]),
		"Give the gate the artifact's provenance (for example the Sigstore bundle GitHub or npm published) and trust its signing identity as a builder in the trust file.",
		[],
	)
}

violations contains v if {
	count(allowed) == 0
	count(builder_signed) > 0
	v := lib.violation(
		"identity.not_allowed",
		sprintf("no provenance of %s comes from an allowed identity: %s", [input.artifact.digest, concat(", ", sort([describe(p) | some p in builder_signed]))]),
		"Build and sign from an allowed repository, ref and workflow, or widen params identity.repositories, identity.refs or identity.workflows after review.",
		lib.ids(builder_signed),
	)
}
