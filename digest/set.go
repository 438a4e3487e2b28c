package digest

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"maps"
	"slices"

	"github.com/hallmark-dev/hallmark/internal/limits"
)

// Algorithm names, spelled as the keys of an in-toto ResourceDescriptor
// digest set.
const (
	SHA256    = "sha256"
	SHA512    = "sha512"
	GitCommit = "gitCommit"
	DirHash   = "dirHash"
)

// bufSize is the read buffer used for streaming hashes: large enough that
// the per-call overhead is negligible next to the hashing itself.
const bufSize = 1 << 20

// ErrUnknownAlgorithm reports a hash algorithm this package cannot compute.
var ErrUnknownAlgorithm = errors.New("digest: unknown algorithm")

// Set maps an algorithm name (such as [SHA256]) to a lower-case hex digest.
type Set map[string]string

// Equal reports whether s and o hold the same algorithms with the same values.
func (s Set) Equal(o Set) bool { return maps.Equal(s, o) }

// Algorithms returns the algorithm names in s, sorted.
func (s Set) Algorithms() []string { return slices.Sorted(maps.Keys(s)) }

// String renders s as "alg:hex" pairs in algorithm order, for messages.
func (s Set) String() string {
	out := ""
	for i, a := range s.Algorithms() {
		if i > 0 {
			out += " "
		}
		out += a + ":" + s[a]
	}
	return out
}

// newHash returns a fresh hash for a streamable algorithm.
func newHash(alg string) (hash.Hash, error) {
	switch alg {
	case SHA256:
		return sha256.New(), nil
	case SHA512:
		return sha512.New(), nil
	}
	return nil, fmt.Errorf("%w: %q cannot be computed from a byte stream", ErrUnknownAlgorithm, alg)
}

// Reader streams r through the given algorithms (sha256 when none are named)
// and returns the digests and the number of bytes read.
func Reader(r io.Reader, algs ...string) (Set, int64, error) {
	return readerBuf(r, make([]byte, bufSize), algs...)
}

func readerBuf(r io.Reader, buf []byte, algs ...string) (Set, int64, error) {
	if len(algs) == 0 {
		algs = []string{SHA256}
	}
	hs := make([]hash.Hash, len(algs))
	ws := make([]io.Writer, len(algs))
	for i, a := range algs {
		h, err := newHash(a)
		if err != nil {
			return nil, 0, err
		}
		hs[i], ws[i] = h, h
	}
	var w io.Writer = hs[0]
	if len(ws) > 1 {
		w = io.MultiWriter(ws...)
	}
	n, err := io.CopyBuffer(w, onlyReader{r}, buf)
	if err != nil {
		return nil, n, err
	}
	s := make(Set, len(algs))
	for i, a := range algs {
		s[a] = hex.EncodeToString(hs[i].Sum(nil))
	}
	return s, n, nil
}

// onlyReader hides WriterTo/ReaderFrom so io.CopyBuffer uses our buffer.
type onlyReader struct{ io.Reader }

// File streams the file at path through the given algorithms (sha256 when
// none are named). It follows a symbolic link named by path, like os.Open.
func File(path string, algs ...string) (Set, error) {
	f, err := limits.OpenFile(path)
	if err != nil {
		return nil, fmt.Errorf("digest: open %s: %w", path, err)
	}
	defer f.Close()
	s, _, err := Reader(f, algs...)
	if err != nil {
		return nil, fmt.Errorf("digest: read %s: %w", path, err)
	}
	return s, nil
}
