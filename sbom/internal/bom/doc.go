// Package bom is the inventory model of package sbom and its CycloneDX and
// SPDX encoders and decoders. It is kept apart from the scanner so that it
// does not link osv-scalibr: its decoders are fuzzed, and fuzzing
// instruments every linked package. Package sbom re-exports its API.
package bom
