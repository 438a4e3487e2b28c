package finding

import (
	"errors"
	"fmt"

	"github.com/hallmark-dev/hallmark/internal/strictjson"
)

// ErrMalformedPredicate is wrapped by Read's errors.
var ErrMalformedPredicate = errors.New("malformed findings predicate")

// Read decodes a findings predicate (the "predicate" object of a signed
// statement) strictly: the schema is Hallmark's and closed, so unknown
// keys, keys that differ in case and duplicates are refused. The gate and
// the dashboard both read findings with it.
func Read(predicate []byte) (*Predicate, error) {
	var p Predicate
	if err := strictjson.Decode(predicate, &p); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedPredicate, err)
	}
	return &p, nil
}
