// Package compliance says what Hallmark's verified evidence proves in an
// auditor's terms. It holds a versioned control mapping (controls.yaml,
// embedded) from evidence kinds and built-in policy rule groups to the
// requirements of SLSA v1.0 (Build track), NIST SP 800-218 (SSDF v1.1) and
// the EU Cyber Resilience Act (Regulation (EU) 2024/2847, Annex I), and
// judges each control for one artifact from facts the gate has already
// verified: the policy input, the policy decision and the recorded
// deployments. It never reads or verifies bundles itself; the composition
// root gathers the facts through the gate (docs/compliance.md).
package compliance
