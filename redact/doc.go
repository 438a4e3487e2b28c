// Package redact removes credentials from text and environments before they
// are recorded (build provenance, logs, reports).
//
// Env and EnvMap mask the value of every variable whose name says it holds a
// credential (TOKEN, SECRET, PASSWORD, KEY, CREDENTIALS, AUTH, SESSION and
// the like) and of every variable whose value looks like one: a match of the
// secret-detection rules of package secrets/rules (AWS keys, GitHub tokens,
// JWTs, PEM private keys, passwords in URLs, ...) or a long high-entropy
// token. String masks the credentials found in free text (a command line, a
// log line) and the values of sensitive-looking assignments and flags.
//
// Masking is conservative: when in doubt a value is masked. Masked values are
// replaced by a marker such as "[REDACTED]" or "[REDACTED:github-pat]", never
// by a hash of the value, so nothing about a weak password leaks.
package redact
