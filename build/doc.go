// Package build runs a user's build command and records what it consumed
// and produced, as the facts an SLSA provenance statement is made from.
//
// [Run] executes the command with a clean environment (an allowlist plus
// SOURCE_DATE_EPOCH, TZ=UTC, LANG=C.UTF-8 and an empty HOME), optionally
// inside the Linux sandbox of package build/sandbox, streams the build log
// to a file while hashing it, finds the products (explicit globs, or the
// files created or changed under declared output directories), and records
// the materials: the git source, the dependencies pinned by lockfiles
// (package build/materials) and the toolchain binaries the command names.
// A command that exits non-zero yields an [*ExitError] and no result.
//
// Environment values that look like credentials are never recorded: a
// [SecretFunc] (by default [DefaultIsSecret]) decides by name and by value
// shape, and callers can plug in a shared redaction policy.
package build
