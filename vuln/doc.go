// Package vuln matches a package inventory against OSV vulnerability data
// with full OSV range semantics (SEMVER, ECOSYSTEM and GIT ranges;
// introduced, fixed, last_affected and limit events; explicit version
// lists; withdrawn records) and per-ecosystem version ordering from
// osv-scalibr's semantic package. Records that name each other as aliases
// become one Finding. Severity comes from CVSS v4/v3/v2 vectors, else from
// the record's database_specific severity, else it is explicitly unknown.
// OpenVEX statements suppress findings, which are then listed as
// suppressed rather than dropped.
//
// A Scanner never reports a clean result it cannot stand behind: when the
// database is empty, unreadable, older than the allowed age, or has no
// records for an ecosystem in the inventory, or when a package or record
// cannot be evaluated, Scan returns its Report together with an
// *IncompleteError (errors.Is(err, ErrIncomplete)).
//
// Predicate builds the in-toto vulns v0.2 predicate from a Report.
package vuln
