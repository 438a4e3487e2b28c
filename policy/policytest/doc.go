// Package policytest builds realistic policy inputs for tests and
// benchmarks: an artifact with provenance, an SBOM, scans, rebuilds, TEE
// evidence and approvals that together pass the built-in prod preset, which
// tests then break one piece at a time.
package policytest
