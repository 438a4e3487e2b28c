package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ErrAmbiguous is returned by Resolve when an ID prefix names several
// records; the error is an *AmbiguousError listing them.
var ErrAmbiguous = errors.New("ambiguous evidence ID prefix")

// MinPrefixHex is the shortest ID prefix Resolve expands, in hex digits, as
// git does: shorter ones are refused, not guessed.
const MinPrefixHex = 7

// maxCandidates bounds the IDs an ambiguity error lists.
const maxCandidates = 10

// Prefixer is implemented by stores that can list the IDs starting with a
// prefix ("sha256:ab12..."), in ID order, at most limit of them.
type Prefixer interface {
	IDsWithPrefix(ctx context.Context, prefix string, limit int) ([]string, error)
}

// AmbiguousError reports the records an ID prefix matches (at most 10).
type AmbiguousError struct {
	Prefix     string
	Candidates []string
}

func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("%s: %s matches %s", ErrAmbiguous, e.Prefix, strings.Join(e.Candidates, ", "))
}

// Unwrap returns ErrAmbiguous.
func (e *AmbiguousError) Unwrap() error { return ErrAmbiguous }

// Resolve turns what a person typed, a full evidence ID or a unique prefix
// of one (git-style: "sha256:" optional, hex case-insensitive, at least
// MinPrefixHex hex digits), into the full ID. It returns ErrNotFound when no
// record matches, an *AmbiguousError when several do, and ErrBadQuery for a
// prefix that is too short or not hex.
func Resolve(ctx context.Context, s Store, ref string) (string, error) {
	alg, hexValue, ok := strings.Cut(strings.TrimSpace(ref), ":")
	if !ok {
		alg, hexValue = "sha256", alg
	}
	alg, hexValue = strings.ToLower(alg), strings.ToLower(hexValue)
	if alg != "sha256" || strings.Trim(hexValue, "0123456789abcdef") != "" || hexValue == "" {
		return "", fmt.Errorf("%w: evidence ID %q is not sha256:HEX or a prefix of one", ErrBadQuery, ref)
	}
	id := alg + ":" + hexValue
	if len(hexValue) == 64 {
		return id, nil
	}
	if len(hexValue) < MinPrefixHex {
		return "", fmt.Errorf("%w: evidence ID prefix %q is shorter than %d hex digits", ErrBadQuery, ref, MinPrefixHex)
	}
	p, ok := s.(Prefixer)
	if !ok {
		return "", fmt.Errorf("%w: %s (this store needs the full ID)", ErrNotFound, id)
	}
	ids, err := p.IDsWithPrefix(ctx, id, maxCandidates)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", id, err)
	}
	switch len(ids) {
	case 0:
		return "", fmt.Errorf("%w: %s", ErrNotFound, id)
	case 1:
		return ids[0], nil
	}
	return "", &AmbiguousError{Prefix: id, Candidates: ids}
}
