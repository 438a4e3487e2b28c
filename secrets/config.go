package secrets

import (
	"errors"
	"fmt"
	"log/slog"
)

// ErrConfig is returned when a Config is invalid.
var ErrConfig = errors.New("invalid secret scan configuration")

// Config controls a scan. The zero value is a safe default.
type Config struct {
	// Allowlist waives findings; nil waives none.
	Allowlist *Allowlist
	// Limits bound the work spent on one input; zero fields take defaults.
	Limits Limits
	// Workers is how many top-level files are scanned in parallel; zero
	// means one per CPU.
	Workers int
	// DecodeDepth is how many rounds of base64/hex/percent decoding are
	// applied before matching again; nil means rules.DefaultDecodeDepth and
	// a pointer to 0 disables decoding.
	DecodeDepth *int
	// Logger receives debug messages; nil discards them.
	Logger *slog.Logger
	// Progress, when set, is called after each top-level file is scanned
	// with its path and the number of files scanned so far, one call at a
	// time, for a person watching a long scan.
	Progress func(path string, scanned int)
	// SkipDirs are directories (file system paths, absolute or relative to
	// the working directory) not walked when a tree is scanned, such as
	// Hallmark's own evidence store, whose vulnerability database and
	// encrypted keys are not leaked credentials. A directory that is not
	// inside the scanned tree is ignored. Scan a skipped directory by naming
	// it as the path.
	SkipDirs []string
}

// Limits bound the work spent on untrusted input. Each applies per
// top-level file: a tarball and everything nested in it share one budget.
type Limits struct {
	// MaxFileBytes is how many bytes of one file or archive member are
	// searched for credentials; the rest is reported as not scanned.
	MaxFileBytes int64
	// MaxDepth is how many archive or compression layers are opened, nested
	// (a .tar.gz inside a zip is three layers).
	MaxDepth int
	// MaxExpandedBytes caps the bytes decompressed or extracted from one
	// top-level file, whatever the archive headers claim.
	MaxExpandedBytes int64
	// MaxMembers caps the archive members visited in one top-level file.
	MaxMembers int
	// MaxBufferedBytes is the largest nested zip read into memory (zip needs
	// random access; a zip on disk is read in place).
	MaxBufferedBytes int64
}

// DefaultLimits returns the limits used for zero fields of Limits.
func DefaultLimits() Limits {
	return Limits{
		MaxFileBytes:     256 << 20,
		MaxDepth:         6,
		MaxExpandedBytes: 4 << 30,
		MaxMembers:       200_000,
		MaxBufferedBytes: 128 << 20,
	}
}

func (l Limits) withDefaults() (Limits, error) {
	if l.MaxFileBytes < 0 || l.MaxDepth < 0 || l.MaxExpandedBytes < 0 || l.MaxMembers < 0 || l.MaxBufferedBytes < 0 {
		return l, fmt.Errorf("%w: negative limit in %+v", ErrConfig, l)
	}
	d := DefaultLimits()
	if l.MaxFileBytes == 0 {
		l.MaxFileBytes = d.MaxFileBytes
	}
	if l.MaxDepth == 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxExpandedBytes == 0 {
		l.MaxExpandedBytes = d.MaxExpandedBytes
	}
	if l.MaxMembers == 0 {
		l.MaxMembers = d.MaxMembers
	}
	if l.MaxBufferedBytes == 0 {
		l.MaxBufferedBytes = d.MaxBufferedBytes
	}
	return l, nil
}
