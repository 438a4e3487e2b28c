# Test policy: an artifact needs an approval for the environment and no
# critical vulnerability.
package hallmark.policy

approved if {
	some a in input.evidence.approvals
	a.environment == input.context.environment
	a.artifact == input.artifact.digest
}

violations contains {
	"ruleId": "approvals.missing",
	"message": sprintf("no approval for %s in %s", [input.artifact.digest, input.context.environment]),
	"remediation": "Run hallmark approve.",
} if not approved

violations contains {
	"ruleId": "vulns.critical",
	"message": sprintf("critical vulnerability %s", [f.id]),
} if {
	some s in input.evidence.vulns
	some f in s.findings
	f.severity == "critical"
}

decision := {"allow": count(violations) == 0, "violations": violations}
