// Package archive writes and verifies the audit archive of a compliance
// report: one tar file with every bundle the report relies on, the trust
// file with its keys inline, the compiled policy and each artifact's policy
// input, the report and a manifest of sha256 digests (optionally signed).
// Verify checks it offline: members against the manifest, bundles against
// the archived trust file (and trusted root), the policy's digest, and the
// report rebuilt by the gate's dry run on the archived evidence alone.
package archive
