// Package postgres is the evidence store for teams that outgrow one
// machine: the store.Store interface on PostgreSQL through pgx, with
// versioned schema migrations applied on open under an advisory lock, so
// several `hallmark serve` processes can share one database.
package postgres
