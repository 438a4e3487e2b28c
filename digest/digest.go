package digest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ErrMalformed reports a digest that is not "ALG:HEX" with a supported
// algorithm and the exact number of lower-case hex digits it produces.
var ErrMalformed = errors.New("malformed digest")

// hexLen is the number of hex digits of each algorithm a [Digest] names.
var hexLen = map[string]int{SHA256: 64, SHA512: 128}

// maxInput bounds what an error message quotes of a rejected input.
const maxInput = 160

// Digest names content by one hash: an algorithm ([SHA256] or [SHA512])
// and its lower-case hex value, written "sha256:<64 hex digits>". It is
// the one form of a digest from a command-line argument to a store column:
// the zero value is "no digest", and every other value was checked by
// [Parse] or [New] (or computed by [Sum256]), so holders never re-trim a
// prefix or lower-case a value again. Digests compare with ==.
//
// It plays the part of go-containerregistry's v1.Hash, which it converts to
// and from, and also takes sha512 (npm provenance subjects use it).
type Digest struct {
	alg, hex string
}

// Parse reads "ALG:HEX". It is strict, as the OCI image specification is
// for sha256 and sha512: the algorithm in lower case, then exactly as many
// lower-case hex digits as that algorithm yields (64 for sha256, 128 for
// sha512). Upper-case hex, a missing prefix, surrounding space and any
// other algorithm are refused with an error wrapping [ErrMalformed].
func Parse(s string) (Digest, error) {
	alg, h, ok := strings.Cut(s, ":")
	if !ok {
		return Digest{}, malformed(s, "want ALG:HEX, e.g. sha256:<64 hex digits>")
	}
	return New(alg, h)
}

// New checks one entry of a digest set (an in-toto ResourceDescriptor's
// "digest" map: algorithm name to hex) by the rules of [Parse].
func New(alg, hexValue string) (Digest, error) {
	n, ok := hexLen[alg]
	if !ok {
		return Digest{}, malformed(alg+":"+hexValue, fmt.Sprintf("algorithm %q is not sha256 or sha512", clip(alg)))
	}
	if len(hexValue) != n {
		return Digest{}, malformed(alg+":"+hexValue, fmt.Sprintf("%s takes %d hex digits, not %d", alg, n, len(hexValue)))
	}
	for i := 0; i < len(hexValue); i++ {
		c := hexValue[i]
		if ('0' > c || c > '9') && ('a' > c || c > 'f') {
			what := "not a hex digit"
			if 'A' <= c && c <= 'F' {
				what = "upper case; write hex digits in lower case"
			}
			return Digest{}, malformed(alg+":"+hexValue, fmt.Sprintf("character %d (%q) is %s", i+1, c, what))
		}
	}
	return Digest{alg: alg, hex: hexValue}, nil
}

// MustParse is [Parse] for constants and tests: it panics on a malformed
// digest.
func MustParse(s string) Digest {
	d, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

// Sum256 is the sha256 digest of b.
func Sum256(b []byte) Digest {
	s := sha256.Sum256(b)
	return Digest{alg: SHA256, hex: hex.EncodeToString(s[:])}
}

// FromHash converts a go-containerregistry hash, checking it by the rules
// of [Parse] (v1.Hash is a plain struct that holds whatever it was given).
func FromHash(h v1.Hash) (Digest, error) { return New(h.Algorithm, h.Hex) }

// Hash converts d to a go-containerregistry hash. The zero Digest gives the
// zero v1.Hash.
func (d Digest) Hash() v1.Hash { return v1.Hash{Algorithm: d.alg, Hex: d.hex} }

// Algorithm is the algorithm name, [SHA256] or [SHA512]; "" for the zero
// Digest.
func (d Digest) Algorithm() string { return d.alg }

// Hex is the lower-case hex value; "" for the zero Digest.
func (d Digest) Hex() string { return d.hex }

// IsZero reports whether d is the zero Digest (no digest).
func (d Digest) IsZero() bool { return d.alg == "" }

// String is "ALG:HEX", or "" for the zero Digest.
func (d Digest) String() string {
	if d.IsZero() {
		return ""
	}
	return d.alg + ":" + d.hex
}

// Set is d as a one-entry digest set, for an in-toto subject.
func (d Digest) Set() Set { return Set{d.alg: d.hex} }

// In reports whether s holds d's algorithm with d's value. Values in s are
// compared as they are: a set holding upper-case hex does not match.
func (d Digest) In(s Set) bool { return !d.IsZero() && s[d.alg] == d.hex }

// MarshalText writes [Digest.String], so a Digest is a JSON or YAML string.
func (d Digest) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads a digest by the rules of [Parse]; an empty text is
// refused too, so a decoded Digest is never zero by accident.
func (d *Digest) UnmarshalText(b []byte) error {
	p, err := Parse(string(b))
	if err != nil {
		return err
	}
	*d = p
	return nil
}

func malformed(s, why string) error {
	return fmt.Errorf("%w: %q: %s", ErrMalformed, clip(s), why)
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > maxInput {
		return s[:maxInput] + "…"
	}
	return s
}
