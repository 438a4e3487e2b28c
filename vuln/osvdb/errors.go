package osvdb

import (
	"errors"
	"fmt"

	"github.com/hallmark-dev/hallmark/internal/limits"
)

// Errors returned by this package, usually wrapped with context.
var (
	// ErrNotFound means the database directory has no meta.json: nothing was
	// ever imported there.
	ErrNotFound = errors.New("no OSV database at this path")
	// ErrCorrupt means the database files are unreadable or inconsistent.
	ErrCorrupt = errors.New("OSV database is corrupt")
	// ErrBadSource means an import source is not a directory, a .zip file
	// or an http(s) URL, or holds something other than OSV records.
	ErrBadSource = errors.New("bad OSV import source")
	// ErrLimit means an import source exceeds a size or count limit;
	// errors.Is also matches limits.ErrTooLarge.
	ErrLimit = limits.NewTooLarge("OSV import source exceeds limit")
	// ErrDuplicate means one import holds two records with the same ID for
	// the same ecosystem.
	ErrDuplicate = errors.New("duplicate OSV record id")
)

// SourceError names the import source (and the member in it) that failed.
type SourceError struct {
	Source string
	Member string
	Err    error
}

func (e *SourceError) Error() string {
	if e.Member != "" {
		return fmt.Sprintf("osvdb: importing %s (%s): %v", e.Source, e.Member, e.Err)
	}
	return fmt.Sprintf("osvdb: importing %s: %v", e.Source, e.Err)
}

// Unwrap returns the underlying error.
func (e *SourceError) Unwrap() error { return e.Err }
