// Package tlog is the client side of transparency logs and timestamp
// authorities: the Sigstore trusted root that says which logs and
// timestamp authorities to trust (Root, LoadRoot, NewRoot), the services a
// signer talks to (Services), and log monitoring with signed-note
// checkpoints, inclusion and consistency proofs (Monitor).
//
// Logs are Rekor v2 (rekor-tiles): C2SP tlog-tiles storage, signed-note
// checkpoints whose origin is the host name of the log's base URL, and
// hashedrekord v0.0.2 entries. Timestamps are RFC 3161. Signing and offline
// verification of bundles go through sigstore-go (see package attest); this
// package supplies their configuration.
package tlog
