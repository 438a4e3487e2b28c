// Package provenance turns the facts recorded about a build into an SLSA
// v1 provenance predicate and an in-toto Statement.
//
// The builders here are pure: they read nothing from the machine, take the
// invocation ID and times from their input and always produce the same
// output for the same facts. The build type is [BuildType]; its parameters
// are documented in docs/build.md.
package provenance
