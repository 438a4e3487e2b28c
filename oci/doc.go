// Package oci talks to container registries: it resolves an image
// reference written by tag to the digest of the manifest the tag names
// today.
//
// A Resolver asks the registry with a HEAD request for the manifest and
// falls back to a GET (hashing the body itself) when HEAD gives no digest.
// Every resolution runs under a deadline, reads at most a bounded number of
// bytes per response, and is cached for a short time in a cache bounded in
// entries, so that a burst of pods naming one tag costs one request.
// Concurrent resolutions of one reference share a single request.
//
// For a multi-platform image (an OCI image index or a Docker manifest
// list) the digest is the index's: that is what a node pulls when the
// reference is pinned by digest, and it selects its own platform from the
// index. Evidence about such an image must therefore name the index digest.
//
// Registries are reached over HTTPS. The name package of
// go-containerregistry would use plain HTTP for localhost, *.local and
// private (RFC 1918) addresses; a Resolver upgrades those requests to
// HTTPS unless the registry is listed with WithPlainHTTPInsecure.
// Authentication is anonymous unless a Docker config.json
// (WithDockerConfig) or a keychain (WithKeychain) is given; credential
// helper programs are never run.
//
// A resolved digest is a lookup, not evidence: the registry is trusted to
// name the manifest, and the caller decides about the digest (the
// Hallmark gate evaluates the evidence for it, and a node pulling by
// digest verifies the content).
package oci
