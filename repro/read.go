package repro

import (
	"errors"
	"fmt"

	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/internal/strictjson"
)

// ErrMalformedPredicate is wrapped by Read's errors.
var ErrMalformedPredicate = errors.New("malformed reproducibility predicate")

// MaxPredicateSize bounds a reproducibility predicate read by Read.
const MaxPredicateSize = 16 << 20

// Read decodes a reproducibility predicate (the "predicate" object of a
// signed statement) strictly: its schema is Hallmark's and closed, so
// unknown keys, keys that differ in case and duplicates are refused.
func Read(predicate []byte) (*Predicate, error) {
	if len(predicate) > MaxPredicateSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrMalformedPredicate, len(predicate), MaxPredicateSize)
	}
	var p Predicate
	if err := strictjson.Decode(predicate, &p); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedPredicate, err)
	}
	return &p, nil
}

// Vouches says what p proves about the artifact with digest d. Relevant is
// true when a product was expected to have d (or, in a check without
// expectations, was built with d); matched when that product was rebuilt
// bit for bit: with an expectation, the rebuilt digest is d and the product
// reproducible; without one, the product reproducible and the whole check
// reproducible. The gate and the dashboard both read a rebuild this way.
func (p *Predicate) Vouches(d digest.Digest) (relevant, matched bool) {
	for _, pr := range p.Products {
		switch {
		case pr.Expected != nil && d.In(pr.Expected):
			return true, pr.Reproducible && d.In(pr.Digest)
		case pr.Expected == nil && d.In(pr.Digest):
			return true, pr.Reproducible && p.Result == OutcomeReproducible
		}
	}
	return false, false
}
