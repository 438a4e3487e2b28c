package sbom

import (
	"errors"
	"fmt"

	"github.com/hallmark-dev/hallmark/sbom/internal/bom"
)

// Sentinel errors.
var (
	// ErrNoInput is returned when the path to scan does not exist or is not a
	// regular file or directory.
	ErrNoInput = errors.New("sbom: nothing to scan")
	// ErrExtract is returned when the extraction library fails as a whole.
	ErrExtract = errors.New("sbom: extraction failed")
	// ErrTooLarge is returned when an input exceeds its size bound.
	ErrTooLarge = bom.ErrTooLarge
	// ErrFormat is returned for an unknown or malformed document format.
	ErrFormat = bom.ErrFormat
	// ErrEncode is returned when an inventory cannot be written as a document.
	ErrEncode = bom.ErrEncode
)

// ParseError reports a file this package reads itself that could not be
// decoded.
type ParseError struct {
	Path string // file, relative to the scanned root
	Err  error
}

func (e *ParseError) Error() string { return fmt.Sprintf("sbom: parse %s: %v", e.Path, e.Err) }

// Unwrap returns the underlying error.
func (e *ParseError) Unwrap() error { return e.Err }
