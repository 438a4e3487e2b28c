package materials

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/internal/limits"
)

// Limits on untrusted lockfiles.
const (
	// MaxLockfileSize is the largest lockfile parsed, in bytes.
	MaxLockfileSize = 32 << 20
	// MaxDependencies is the most dependencies read from one lockfile.
	MaxDependencies = 200_000
)

var (
	// ErrTooLarge reports a lockfile over MaxLockfileSize or with more
	// than MaxDependencies entries.
	// It is limits.ErrTooLarge.
	ErrTooLarge = limits.ErrTooLarge
	// ErrMalformed reports a lockfile that does not follow its format.
	ErrMalformed = errors.New("materials: malformed lockfile")
	// ErrUnknownFormat reports a file name that is not a known lockfile.
	ErrUnknownFormat = errors.New("materials: not a known lockfile")
)

// Dependency is one package named by a lockfile.
type Dependency struct {
	// PURL is the package URL, for example "pkg:cargo/smallvec@0.6.14".
	PURL string `json:"purl"`
	// Digest is the pinned digest, nil when the lockfile pins none.
	Digest digest.Set `json:"digest,omitempty"`
	// Origin is the lockfile's path relative to the source root.
	Origin string `json:"origin"`
}

// ParseError locates a problem in a lockfile.
type ParseError struct {
	File string
	Line int // 0 when not line-oriented
	Err  error
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("materials: %s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("materials: %s: %v", e.File, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// parser reads one lockfile format.
type parser func(file string, data []byte) ([]Dependency, error)

// parserFor picks the parser for a lockfile by its base name.
func parserFor(name string) parser {
	base := path.Base(name)
	switch {
	case base == "go.sum":
		return parseGoSum
	case base == "package-lock.json" || base == "npm-shrinkwrap.json":
		return parseNPM
	case base == "Cargo.lock":
		return parseCargo
	case base == "poetry.lock":
		return parsePoetry
	case strings.HasPrefix(base, "requirements") && strings.HasSuffix(base, ".txt"):
		return parseRequirements
	}
	return nil
}

// IsLockfile reports whether a file name (a path is fine) is a lockfile
// this package reads.
func IsLockfile(name string) bool { return parserFor(name) != nil }

// Parse reads the lockfile data found at name (a slash path relative to the
// source root, which picks the format and becomes each Origin). The result
// is sorted by PURL and free of duplicates.
func Parse(name string, data []byte) ([]Dependency, error) {
	p := parserFor(name)
	if p == nil {
		return nil, fmt.Errorf("%w: %s", ErrUnknownFormat, name)
	}
	if len(data) > MaxLockfileSize {
		return nil, &ParseError{File: name, Err: fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(data), MaxLockfileSize)}
	}
	deps, err := p(name, data)
	if err != nil {
		return nil, err
	}
	if len(deps) > MaxDependencies {
		return nil, &ParseError{File: name, Err: fmt.Errorf("%w: %d dependencies, limit %d", ErrTooLarge, len(deps), MaxDependencies)}
	}
	for i := range deps {
		deps[i].Origin = name
	}
	slices.SortFunc(deps, func(a, b Dependency) int {
		if c := strings.Compare(a.PURL, b.PURL); c != 0 {
			return c
		}
		return strings.Compare(a.Digest.String(), b.Digest.String())
	})
	return slices.CompactFunc(deps, func(a, b Dependency) bool {
		return a.PURL == b.PURL && a.Digest.Equal(b.Digest)
	}), nil
}

// purl renders a package URL with the library that owns the format.
func purl(typ, namespace, name, version string) string {
	return packageurl.NewPackageURL(typ, namespace, name, version, nil, "").ToString()
}

// b64ToHex converts a standard base64 digest to hex, checking its length.
func b64ToHex(s string, size int) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return "", fmt.Errorf("bad base64 digest: %w", err)
	}
	if len(raw) != size {
		return "", fmt.Errorf("digest is %d bytes, want %d", len(raw), size)
	}
	return hex.EncodeToString(raw), nil
}

// checkHex validates a hex digest of size bytes and lower-cases it.
func checkHex(s string, size int) (string, error) {
	raw, err := hex.DecodeString(s)
	if err != nil || len(raw) != size {
		return "", fmt.Errorf("bad hex digest %q", s)
	}
	return hex.EncodeToString(raw), nil
}
