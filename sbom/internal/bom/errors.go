package bom

import (
	"errors"

	"github.com/hallmark-dev/hallmark/internal/limits"
)

// Sentinel errors; package sbom re-exports them.
var (
	// ErrTooLarge is returned when an input exceeds its size bound; it is
	// limits.ErrTooLarge, so one errors.Is test covers every package.
	ErrTooLarge = limits.ErrTooLarge
	// ErrFormat is returned for an unknown or malformed document format.
	ErrFormat = errors.New("sbom: unknown format")
	// ErrEncode is returned when an inventory cannot be written as a document.
	ErrEncode = errors.New("sbom: cannot encode document")
)
