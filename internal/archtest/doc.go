// Package archtest enforces the architecture written in
// docs/architecture.md: which packages may import which libraries and
// which internal packages, that the CLI and the server stay within their
// line budgets, that libraries do not own the process, and that every
// package is documented.
// It has no code of its own, only tests.
package archtest
