package bom

import "errors"

// Sentinel errors; package sbom re-exports them.
var (
	// ErrTooLarge is returned when an input exceeds its size bound.
	ErrTooLarge = errors.New("sbom: input too large")
	// ErrFormat is returned for an unknown or malformed document format.
	ErrFormat = errors.New("sbom: unknown format")
	// ErrEncode is returned when an inventory cannot be written as a document.
	ErrEncode = errors.New("sbom: cannot encode document")
)
