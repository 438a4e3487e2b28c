// Package gate decides whether an artifact may be deployed to an
// environment. It gathers every piece of evidence about the artifact (from
// the store and from bundles given with the request), verifies each against
// the trust file and the role its kind needs, normalises what passes into
// the policy input, evaluates the compiled policy for the environment (fail
// closed), and records the outcome as signed evidence: an SLSA Verification
// Summary Attestation and a deployment-decision record.
package gate
