// Package materials finds the dependencies a build consumes by reading the
// lockfiles in its source tree: go.sum, package-lock.json (and
// npm-shrinkwrap.json), Cargo.lock, requirements*.txt and poetry.lock.
//
// Each dependency is named by a package URL and carries the digest the
// lockfile pins, when it pins one. Parsers treat their input as untrusted:
// sizes and entry counts are bounded and malformed input yields an error
// naming the file and line, never a panic.
package materials
