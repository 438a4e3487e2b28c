// Package sbom builds a software inventory (the components inside a source
// tree, a Go binary or an unpacked root filesystem) and writes it as a
// CycloneDX 1.6 or SPDX 2.3 JSON document.
//
// Extraction is done by osv-scalibr's filesystem extractors (go.mod, Go
// binaries, npm/yarn/pnpm lockfiles, pip/poetry/Pipfile/uv lockfiles,
// Cargo.lock, pom.xml, gradle.lockfile, Gemfile.lock, dpkg status, apk
// installed). Where scalibr drops data an SBOM needs (licences and
// integrity hashes in package-lock.json, checksums in Cargo.lock), small
// size-bounded readers in this package add it back; docs/sbom.md lists them.
//
// The SBOM documents are deterministic for a given inventory and creation
// time, which the caller injects, so they can be signed as in-toto
// statements with the predicate types [PredicateCycloneDX] and [PredicateSPDX].
package sbom
