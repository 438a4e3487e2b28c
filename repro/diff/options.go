package diff

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

type config struct {
	maxDepth        int
	maxMembers      int
	maxDecompressed int64
	maxMemory       int64
	maxExplain      int64
	maxText         int64
	maxDiffLines    int
	maxDifferences  int
	maxRanges       int
	tempDir         string
	now             func() time.Time
	log             *slog.Logger
}

func defaultConfig() config {
	return config{
		maxDepth:        8,
		maxMembers:      100_000,
		maxDecompressed: 8 << 30,
		maxMemory:       32 << 20,
		maxExplain:      2 << 30,
		maxText:         8 << 20,
		maxDiffLines:    200,
		maxDifferences:  1000,
		maxRanges:       8,
		now:             time.Now,
		log:             slog.New(slog.DiscardHandler),
	}
}

// Option configures [Files] and [Bytes].
type Option func(*config) error

var errBadOption = errors.New("invalid option")

func positive(name string, n int64) error {
	if n <= 0 {
		return fmt.Errorf("%w: %s must be positive, got %d", errBadOption, name, n)
	}
	return nil
}

// WithMaxDepth bounds how deep the comparer recurses into nested archives and
// compressed streams (default 8).
func WithMaxDepth(n int) Option {
	return func(c *config) error { c.maxDepth = n; return positive("max depth", int64(n)) }
}

// WithMaxMembers bounds the number of members read from one archive
// (default 100000).
func WithMaxMembers(n int) Option {
	return func(c *config) error { c.maxMembers = n; return positive("max members", int64(n)) }
}

// WithMaxDecompressed bounds the size of any one decompressed stream or
// archive member (default 8 GiB); it stops decompression bombs.
func WithMaxDecompressed(n int64) Option {
	return func(c *config) error { c.maxDecompressed = n; return positive("max decompressed", n) }
}

// WithMaxMemory sets the size up to which an extracted member is held in
// memory; larger members are spooled to a temporary file (default 32 MiB).
func WithMaxMemory(n int64) Option {
	return func(c *config) error { c.maxMemory = n; return positive("max memory", n) }
}

// WithMaxExplain sets the size above which a differing member is reported by
// digest only, without being extracted and explained (default 2 GiB).
func WithMaxExplain(n int64) Option {
	return func(c *config) error { c.maxExplain = n; return positive("max explain", n) }
}

// WithMaxText sets the size up to which text and JSON are compared as a
// unified diff (default 8 MiB); larger files are compared byte by byte.
func WithMaxText(n int64) Option {
	return func(c *config) error { c.maxText = n; return positive("max text", n) }
}

// WithMaxDifferences bounds the number of differences reported (default
// 1000); the report is marked truncated when it is reached.
func WithMaxDifferences(n int) Option {
	return func(c *config) error { c.maxDifferences = n; return positive("max differences", int64(n)) }
}

// WithTempDir sets where large members are spooled (default os.TempDir).
func WithTempDir(dir string) Option {
	return func(c *config) error { c.tempDir = dir; return nil }
}

// WithNow sets the clock used to recognise embedded timestamps "near now"
// (default time.Now).
func WithNow(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return fmt.Errorf("%w: nil clock", errBadOption)
		}
		c.now = now
		return nil
	}
}

// WithLogger sets a logger for progress messages (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return fmt.Errorf("%w: nil logger", errBadOption)
		}
		c.log = l
		return nil
	}
}
