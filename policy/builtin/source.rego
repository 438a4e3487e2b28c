# METADATA
# title: Source repository, ref and commit constraints
# description: >-
#   Every provenance of the artifact must name its source (externalParameters
#   .source) with a repository in params.source.repositories, a ref matching one
#   of the globs in params.source.refs ('/' separates segments; '**' crosses
#   them), and a full git commit (40 or 64 hex digits), which must be listed in
#   params.source.commits when that list is not empty. Empty allowlists allow
#   any repository or ref. A build from a tree with uncommitted changes
#   (source.dirty) or whose command changed tracked files
#   (source.modifiedByBuild) did not build the commit it names and is denied,
#   unless params.source.allowDirtyUnsafe is true.
package hallmark.builtin.v1.rules.source

import data.hallmark.builtin.v1.lib
import data.hallmark.builtin.v1.rules.slsa_l1
import data.hallmark.params

violations contains lib.violation(
	"source.provenance_missing",
	sprintf("no verified provenance names artifact %s, so its source is unknown", [input.artifact.digest]),
	"Give the gate the artifact's signed provenance; it records the source repository, ref and commit.",
	[],
) if {
	not slsa_l1.met
}

src(p) := object.get(p, ["externalParameters", "source"], {})

violations contains v if {
	some p in slsa_l1.provenance
	object.get(src(p), "repository", "") == ""
	v := lib.violation(
		"source.not_recorded",
		"provenance does not record the source repository",
		"Build from a git checkout with a builder that records externalParameters.source (repository, ref, commit).",
		[p.id],
	)
}

violations contains v if {
	count(params.source.repositories) > 0
	some p in slsa_l1.provenance
	repo := object.get(src(p), "repository", "")
	repo != ""
	not repo in params.source.repositories
	v := lib.violation(
		"source.repository_not_allowed",
		sprintf("source repository %q is not allowed (allowed: %s)", [repo, concat(", ", params.source.repositories)]),
		"Build from an allowed repository, or add this repository to params source.repositories.",
		[p.id],
	)
}

ref_allowed(ref) if {
	some pattern in params.source.refs
	glob.match(pattern, ["/"], ref)
}

violations contains v if {
	count(params.source.refs) > 0
	some p in slsa_l1.provenance
	ref := object.get(src(p), "ref", "")
	not ref_allowed(ref)
	v := lib.violation(
		"source.ref_not_allowed",
		sprintf("source ref %q does not match an allowed ref (%s)", [ref, concat(", ", params.source.refs)]),
		"Build from an allowed branch or tag (e.g. merge to the protected branch first).",
		[p.id],
	)
}

full_commit(c) if regex.match(`^([0-9a-f]{40}|[0-9a-f]{64})$`, c)

violations contains v if {
	some p in slsa_l1.provenance
	commit := object.get(src(p), "commit", "")
	not full_commit(commit)
	v := lib.violation(
		"source.commit_not_pinned",
		sprintf("source commit %q is not a full git commit ID", [commit]),
		"Build from a specific commit so the provenance records its full SHA-1 or SHA-256 ID.",
		[p.id],
	)
}

violations contains v if {
	count(params.source.commits) > 0
	some p in slsa_l1.provenance
	commit := object.get(src(p), "commit", "")
	full_commit(commit)
	not commit in params.source.commits
	v := lib.violation(
		"source.commit_not_allowed",
		sprintf("source commit %s is not in the list of allowed commits", [commit]),
		"Build from one of the reviewed commits listed in params source.commits.",
		[p.id],
	)
}

# dirty_allowed holds only when the preset says so explicitly and loudly.
dirty_allowed if params.source.allowDirtyUnsafe == true

violations contains v if {
	not dirty_allowed
	some p in slsa_l1.provenance
	object.get(src(p), "dirty", false) != false
	v := lib.violation(
		"source.dirty",
		sprintf("provenance records a build from a tree with uncommitted changes at commit %q: the commit does not name what was built", [object.get(src(p), "commit", "")]),
		"Commit or remove the changes (and anything preparation steps write into tracked files), then build from the clean checkout; only if dirty builds are acceptable here set params source.allowDirtyUnsafe: true.",
		[p.id],
	)
}

violations contains v if {
	not dirty_allowed
	some p in slsa_l1.provenance
	changed := object.get(src(p), "modifiedByBuild", [])
	count(changed) > 0
	v := lib.violation(
		"source.modified_by_build",
		sprintf("the build command changed tracked files (%s): the commit does not name what was built", [concat(", ", changed)]),
		"Make the build write only to its output directories (commit generated files, or generate them elsewhere), then rebuild; only if this is acceptable set params source.allowDirtyUnsafe: true.",
		[p.id],
	)
}
