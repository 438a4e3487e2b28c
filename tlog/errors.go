package tlog

import (
	"errors"

	"github.com/hallmark-dev/hallmark/internal/limits"
)

// Errors returned by this package, for errors.Is.
var (
	// ErrTooLarge: a trusted root, checkpoint or tile exceeds its bound.
	ErrTooLarge = limits.ErrTooLarge
	// ErrTrustedRoot: the trusted root file is not a valid Sigstore
	// trusted_root.json, or describes a log or authority it cannot use.
	ErrTrustedRoot = errors.New("invalid trusted root")
	// ErrCheckpoint: a checkpoint is malformed or not signed by the log's key.
	ErrCheckpoint = errors.New("checkpoint does not verify")
	// ErrInconsistent: the log's new checkpoint is not an extension of the
	// one seen before (a fork or rewritten history).
	ErrInconsistent = errors.New("log is not consistent with the last seen checkpoint")
	// ErrNotIncluded: an entry a bundle claims is not in the log.
	ErrNotIncluded = errors.New("entry is not included in the log")
)
