// Package archtest enforces the architecture written in
// docs/architecture.md: which packages may import which libraries, that
// libraries do not own the process, and that every package is documented.
// It has no code of its own, only tests.
package archtest
