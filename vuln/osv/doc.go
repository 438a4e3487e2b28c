// Package osv decodes Open Source Vulnerability (OSV) records
// (https://ossf.github.io/osv-schema/) from untrusted input, with size and
// count limits, and names the per-ecosystem rules (base ecosystem, package
// name normalisation) that the database and the matcher must agree on.
//
// It does not evaluate ranges; see package vuln for matching.
package osv
