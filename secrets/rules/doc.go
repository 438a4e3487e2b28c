// Package rules holds the credential-detection rule set Hallmark uses and a
// small detector over it.
//
// The rule set is gitleaks' default configuration (about 220 rules, the
// TOML embedded in the gitleaks v8 library, not copied; decoded into
// gitleaks' own configuration types, each rule's regular expression
// compiled on first use) extended by a few Hallmark rules
// written in gitleaks' own TOML rule format for credentials the default set
// does not cover: GCP service-account key files, Azure storage account keys
// and SAS signatures, and passwords embedded in URLs. See hallmark.toml.
//
// Matching finds exactly what gitleaks' detector finds over the same text,
// but runs each rule's regular expression only over windows around its
// keywords, bounded by what the expression can match (see engine.go and
// docs/secrets.md); GitleaksEngine selects gitleaks' detector itself, the
// reference the engine is tested against.
//
// A Detector is built once and is safe for concurrent use. Its Find method
// reports matches with the secret's position so that callers can either
// report a redacted value (package secrets) or mask the text (package
// redact). Matches carry the raw secret; callers must never print it.
package rules
