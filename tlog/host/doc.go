// Package host runs a Rekor v2 transparency log and an RFC 3161 timestamp
// authority inside another process, for a single operator who wants
// logged and timestamped evidence without running rekor-tiles and
// timestamp-server: `hallmark serve` mounts them when its configuration
// asks (docs/tlog.md). Production deployments point at a real Rekor v2 and
// TSA instead.
//
// The log stores C2SP tlog-tiles with tessera's POSIX driver and signs
// signed-note checkpoints as rekor-tiles does; it accepts hashedrekord
// v0.0.2 entries through the rekor-tiles API (its generated HTTP gateway
// and entry validation), so Sigstore clients, package tlog's Monitor and
// every Sigstore verifier treat it as a rekor-tiles log. The TSA answers
// as timestamp-server does, with its request checks and certificate chain
// builder. Neither adds an API of its own.
package host
