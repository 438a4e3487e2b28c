package diff

import (
	"errors"
	"fmt"

	"github.com/hallmark-dev/hallmark/internal/limits"
)

// ErrLimit is wrapped by every error reporting that an input exceeded a
// configured bound (size, member count, depth); errors.Is also matches
// limits.ErrTooLarge.
var ErrLimit = limits.NewTooLarge("limit exceeded")

// LimitError says which bound an input exceeded.
type LimitError struct {
	// What names the bound, e.g. "decompressed size".
	What string
	// Limit is the configured bound.
	Limit int64
	// Path is where in the artifact the bound was reached.
	Path string
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%s: %s exceeds %d", displayPath(e.Path), e.What, e.Limit)
}

// Unwrap makes errors.Is(err, ErrLimit) true.
func (e *LimitError) Unwrap() error { return ErrLimit }

// ErrFormat is wrapped when an input claims a format (by its magic bytes)
// but cannot be parsed as that format.
var ErrFormat = errors.New("malformed input")

func displayPath(p string) string {
	if p == "" {
		return "(top level)"
	}
	return p
}
