# METADATA
# title: Hallmark built-in policy library, shared helpers (v1)
# description: >-
#   Helpers used by every built-in rule: severity ordering, role checks,
#   artifact matching, time arithmetic against the injected evaluation time,
#   and the violation shape.
package hallmark.builtin.v1.lib

# severity_rank orders severities exactly like Go's finding.Severity.
severity_rank := {
	"unknown": 0,
	"info": 1,
	"low": 2,
	"medium": 3,
	"high": 4,
	"critical": 5,
}

ns_per_day := 86400000000000

ns_per_second := 1000000000

# now_ns is the evaluation time, input.context.time. Hallmark evaluates
# with time.now_ns() equal to it; the library reads the input so that its
# result depends on nothing else, whoever evaluates it.
now_ns := time.parse_rfc3339_ns(input.context.time)

# about_artifact holds when an evidence item names the artifact under decision
# among its subjects.
about_artifact(item) if input.artifact.digest in item.subjects

# has_role holds when the item's signer is trusted for role.
has_role(item, role) if role in item.signer.roles

# ts_ns parses an RFC 3339 timestamp.
ts_ns(ts) := time.parse_rfc3339_ns(ts)

# older_than_days holds when ts lies more than days before the evaluation time.
older_than_days(ts, days) if now_ns - ts_ns(ts) > days * ns_per_day

# max_clock_skew_ns is how far after the evaluation time a timestamp may lie
# and still count as recent: 5 minutes, for clocks that disagree a little.
max_clock_skew_ns := 300 * ns_per_second

# within_days holds when ts lies no more than days before the evaluation
# time and no more than max_clock_skew_ns after it: evidence dated in the
# future (an approval "from 2099") never ages out, so it never counts as
# recent. Freshness is always tested in this positive form, so a missing or
# unparsable timestamp never counts as fresh.
within_days(ts, days) if {
	age := now_ns - ts_ns(ts)
	age <= days * ns_per_day
	age >= 0 - max_clock_skew_ns
}

# in_future holds when ts lies more than skew_seconds after the evaluation time.
in_future(ts, skew_seconds) if ts_ns(ts) - now_ns > skew_seconds * ns_per_second

# is_unknown_severity holds for "unknown" and for any name Hallmark does not know.
is_unknown_severity(sev) if sev == "unknown"

is_unknown_severity(sev) if not severity_rank[sev]

# at_least reports whether sev is at or above threshold. An unknown severity
# counts only when unknown_fails is true: the caller must choose.
at_least(sev, threshold, _) if {
	not is_unknown_severity(sev)
	severity_rank[sev] >= severity_rank[threshold]
}

at_least(sev, _, true) if is_unknown_severity(sev)

# ids lists the evidence IDs of items, sorted.
ids(items) := sort([i.id | some i in items])

# violation builds one violation object in the shape Hallmark's Go side reads.
violation(rule_id, message, remediation, evidence) := {
	"ruleId": rule_id,
	"message": message,
	"remediation": remediation,
	"evidence": evidence,
}

# ignored_of lists the ignored evidence of one kind.
ignored_of(kind) := [i | some i in input.ignored; i.kind == kind]

# ignored_note explains, for a message, why evidence of kind was not used.
ignored_note(kind) := note if {
	items := ignored_of(kind)
	count(items) > 0
	reasons := [sprintf("%s: %s", [i.id, i.reason]) | some i in items]
	note := sprintf(" (%d %s bundle(s) ignored: %s)", [count(items), kind, concat("; ", reasons)])
} else := ""
