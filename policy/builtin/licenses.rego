# METADATA
# title: Denied licences
# description: >-
#   No component of a trusted SBOM may carry a licence identifier listed in
#   params.licenses.denied (SPDX identifiers, compared exactly, and also
#   found inside SPDX expressions such as "MIT OR GPL-3.0-only").
package hallmark.builtin.v1.rules.licenses

import data.hallmark.builtin.v1.lib
import data.hallmark.builtin.v1.rules.sbom
import data.hallmark.params

# expressions are the distinct licence expressions in the SBOMs: an SBOM of
# hundreds of components uses a handful, so each is examined once.
expressions := {expr |
	some s in sbom.sboms
	some c in s.components
	some expr in c.licenses
}

# denied_in lists the denied licence IDs that occur in an SPDX expression.
denied_in(expr) := {id |
	some word in regex.split(`[\s()]+`, expr)
	some id in params.licenses.denied
	lower(word) == lower(id)
}

# bad maps each expression that contains a denied licence to those licences.
bad := {expr: ids |
	some expr in expressions
	ids := denied_in(expr)
	count(ids) > 0
}

violations contains v if {
	count(bad) > 0
	some s in sbom.sboms
	some c in s.components
	some expr in c.licenses
	some id in bad[expr]
	v := lib.violation(
		"licenses.denied",
		sprintf("component %s is licensed %s, and %s is denied", [c.purl, expr, id]),
		"Replace the component with one under an allowed licence, or obtain a licence exception and update params licenses.denied.",
		[s.id],
	)
}
