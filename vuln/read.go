package vuln

import (
	"errors"
	"fmt"

	"github.com/hallmark-dev/hallmark/internal/strictjson"
)

// ErrMalformedPredicate is wrapped by ReadPredicate's errors.
var ErrMalformedPredicate = errors.New("malformed vulns predicate")

// ReadPredicate decodes an in-toto vulns predicate (the "predicate" object
// of a signed statement). The schema has extension points and other tools
// write it, so keys it does not name are ignored; the keys it reads must
// have exactly their case and no duplicates. The gate and the dashboard
// both read vulnerability scans with it.
func ReadPredicate(predicate []byte) (*VulnsPredicate, error) {
	var p VulnsPredicate
	if err := strictjson.Decode(predicate, &p, strictjson.AllowUnknownKeys()); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedPredicate, err)
	}
	return &p, nil
}
