package repro

import (
	"fmt"
	"slices"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"

	"github.com/hallmark-dev/hallmark/digest"
)

// RebuildInput describes one independent rebuild of a build recorded by
// someone else: the products it was expected to produce (the subjects of
// the original provenance) and what this rebuild produced.
type RebuildInput struct {
	// Rebuilder identifies who rebuilt. Required.
	Rebuilder Rebuilder
	// Command is the build command that was re-run.
	Command []string
	// Source optionally names the source tree (URI and gitCommit).
	Source *Source
	// Expected maps each original product name to its sha256 hex.
	// Required, at least one.
	Expected map[string]string
	// Rebuilt maps product names to the sha256 hex the rebuild produced; an
	// expected name missing here was not produced. Names not in Expected
	// are ignored.
	Rebuilt map[string]string
	// StartedOn and FinishedOn bound the rebuild.
	StartedOn, FinishedOn time.Time
}

// NewRebuild builds the reproducibility predicate of an independent
// rebuild: one run, no variations, each expected product compared with the
// rebuilt one. A product is reproducible when its rebuilt sha256 equals the
// expected one; the result is reproducible only when every product is.
func NewRebuild(in RebuildInput) (*Predicate, error) {
	if len(in.Expected) == 0 {
		return nil, fmt.Errorf("%w: rebuild needs at least one expected product", ErrInvalid)
	}
	for _, name := range sortedNames(in.Expected) {
		if name == "" {
			return nil, fmt.Errorf("%w: expected product with an empty name", ErrInvalid)
		}
		if err := checkSHA256(in.Expected[name]); err != nil {
			return nil, fmt.Errorf("%w: expected digest of %s: %w", ErrInvalid, name, err)
		}
		if d, ok := in.Rebuilt[name]; ok {
			if err := checkSHA256(d); err != nil {
				return nil, fmt.Errorf("%w: rebuilt digest of %s: %w", ErrInvalid, name, err)
			}
		}
	}
	res := &Result{Command: slices.Clone(in.Command), Runs: 1}
	for _, name := range sortedNames(in.Expected) {
		if d, ok := in.Rebuilt[name]; ok {
			res.Products = append(res.Products, Product{Path: name, Digests: []string{"sha256:" + d}, Reproducible: true})
		}
	}
	p, err := NewPredicate(PredicateInput{
		Result: res, Rebuilder: in.Rebuilder, Source: in.Source, Expected: in.Expected,
		StartedOn: in.StartedOn, FinishedOn: in.FinishedOn,
	})
	if err != nil {
		return nil, err
	}
	if p.Variations == nil {
		p.Variations = []Applied{}
	}
	return p, nil
}

// RebuildStatement wraps a rebuild predicate in an in-toto Statement v1
// whose subjects are the expected (original) products, so that the
// attestation is found by the digest of the artifact it vouches for; the
// predicate says per product whether the rebuild matched it.
func RebuildStatement(p *Predicate) (*intoto.Statement, error) {
	var subjects []*intoto.ResourceDescriptor
	for _, pr := range p.Products {
		if pr.Expected["sha256"] != "" {
			subjects = append(subjects, &intoto.ResourceDescriptor{Name: pr.Name, Digest: map[string]string{"sha256": pr.Expected["sha256"]}})
		}
	}
	if len(subjects) == 0 {
		return nil, fmt.Errorf("%w: rebuild predicate has no expected products", ErrInvalid)
	}
	return statement(p, subjects)
}

// checkSHA256 accepts a sha256 hex value as digest.New does: 64 lower-case
// hex digits.
func checkSHA256(d string) error {
	_, err := digest.New(digest.SHA256, d)
	return err
}
