// Package sqlite is the embedded evidence store: one SQLite file (through
// the pure-Go modernc.org/sqlite driver, so no cgo) in write-ahead-log mode
// with full synchronous commits, so every acknowledged Put survives a crash.
package sqlite
