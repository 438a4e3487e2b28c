// Package attested runs a build and attests it: build.Run, the SLSA
// provenance of the result, signed and stored through the caller's
// recorder, and, where the machine has a TEE, a quote bound to that
// provenance, signed and stored the same way. It is the workflow behind
// `hallmark build`, kept out of build so that build does not import the
// signing, storage and TEE packages.
package attested
