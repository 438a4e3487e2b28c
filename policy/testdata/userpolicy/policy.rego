# A user policy: only artifacts built from the payments repository at SLSA
# Build L2 or above may reach an environment listed in data.acme.environments,
# and prod needs a ticket number in the requester field.
package hallmark.policy

import data.hallmark.builtin.v1.levels

violations contains {
	"ruleId": "acme.environment",
	"message": sprintf("environment %q is not managed by this policy", [input.context.environment]),
	"remediation": "Deploy to one of the environments in data.acme.environments.",
	"evidence": [],
} if {
	not input.context.environment in data.acme.environments
}

violations contains {
	"ruleId": "acme.slsa_level",
	"message": sprintf("SLSA Build level %d, at least 2 required", [levels.slsa_build_level]),
	"remediation": "Build on the CI builder so provenance is signed by a trusted builder key.",
	"evidence": [p.id | some p in input.evidence.provenance],
} if {
	levels.slsa_build_level < 2
}

violations contains {
	"ruleId": "acme.ticket",
	"message": "prod deployments need a change ticket in the requester field",
	"remediation": "Request the deployment as 'name (CHG-1234)'.",
	"evidence": [],
} if {
	input.context.environment == "prod"
	not regex.match(`CHG-[0-9]+`, input.context.requester)
}

decision := {
	"allow": count(violations) == 0,
	"violations": violations,
	"slsaBuildLevel": levels.slsa_build_level,
}
