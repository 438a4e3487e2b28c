// Package ocitest runs an in-process OCI registry (go-containerregistry's
// pkg/registry) for tests: over TLS, where a resolver meets it as it would
// meet a real registry, and over plain HTTP for pushing test images and
// for tests of insecure registries.
package ocitest
