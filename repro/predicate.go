package repro

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/types/known/structpb"
)

// PredicateType identifies the reproducibility predicate (docs/repro.md).
const PredicateType = "https://hallmark.dev/attestation/reproducibility/v1"

// Outcome is the overall verdict of a reproducibility check.
type Outcome string

// The outcomes.
const (
	// OutcomeReproducible: every product matched in every run (and the
	// expected digests, when given).
	OutcomeReproducible Outcome = "reproducible"
	// OutcomeNotReproducible: at least one product differed or was missing.
	OutcomeNotReproducible Outcome = "not-reproducible"
	// OutcomeInconclusive: nothing was compared (no products).
	OutcomeInconclusive Outcome = "inconclusive"
)

// Rebuilder identifies who ran the check.
type Rebuilder struct {
	// ID is a URI naming the rebuilder (e.g. its key identity or host).
	ID string `json:"id"`
	// Version records tool versions (e.g. {"hallmark": "v0.1.0"}).
	Version map[string]string `json:"version,omitempty"`
}

// Source names the source the products were built from.
type Source struct {
	URI    string            `json:"uri,omitempty"`
	Digest map[string]string `json:"digest,omitempty"`
	// Dirty reports that what was built was not exactly Digest: the
	// rebuilt tree had uncommitted changes, or the provenance being rebuilt
	// records a dirty tree or tracked files its build changed. Agreement
	// then proves little; policy does not count such a rebuild.
	Dirty bool `json:"dirty"`
}

// ProductResult is the verdict for one product.
type ProductResult struct {
	// Name is the product path relative to the source root.
	Name string `json:"name"`
	// Digest is the control build's digest ({"sha256": hex}); empty when
	// the control did not produce it.
	Digest map[string]string `json:"digest,omitempty"`
	// RunDigests holds each run's sha256 hex, control first.
	RunDigests []string `json:"runDigests"`
	// Expected is the digest the product should have (e.g. the subject of
	// the original provenance), when known.
	Expected map[string]string `json:"expected,omitempty"`
	// Reproducible is true when every run agreed and matched Expected.
	Reproducible bool `json:"reproducible"`
}

// Predicate is the body of a reproducibility attestation.
type Predicate struct {
	Rebuilder  Rebuilder       `json:"rebuilder"`
	Command    []string        `json:"command"`
	Source     *Source         `json:"source,omitempty"`
	Runs       int             `json:"runs"`
	Variations []Applied       `json:"variations"`
	Products   []ProductResult `json:"products"`
	Result     Outcome         `json:"result"`
	// Culprits and Nondeterministic carry the bisection findings.
	Culprits         []Variation `json:"culprits,omitempty"`
	Nondeterministic bool        `json:"nondeterministic,omitempty"`
	StartedOn        time.Time   `json:"startedOn"`
	FinishedOn       time.Time   `json:"finishedOn"`
}

// PredicateInput is everything NewPredicate needs; it reads no clock and no
// environment.
type PredicateInput struct {
	// Result is the outcome of Run. Required.
	Result *Result
	// Rebuilder identifies who ran it. Required.
	Rebuilder Rebuilder
	// Source optionally names the source tree.
	Source *Source
	// Expected maps product names to the sha256 hex they must have, e.g.
	// the subjects of the provenance being independently rebuilt. A name
	// listed here but not produced makes the result not reproducible.
	Expected map[string]string
	// StartedOn and FinishedOn bound the check.
	StartedOn, FinishedOn time.Time
}

// NewPredicate builds the reproducibility predicate from a Run result.
func NewPredicate(in PredicateInput) (*Predicate, error) {
	if in.Result == nil {
		return nil, fmt.Errorf("%w: predicate needs a result", ErrInvalid)
	}
	if in.Rebuilder.ID == "" {
		return nil, fmt.Errorf("%w: predicate needs a rebuilder ID", ErrInvalid)
	}
	if in.FinishedOn.Before(in.StartedOn) {
		return nil, fmt.Errorf("%w: finishedOn %s is before startedOn %s", ErrInvalid, in.FinishedOn, in.StartedOn)
	}
	r := in.Result
	p := &Predicate{
		Rebuilder: in.Rebuilder, Command: slices.Clone(r.Command), Source: in.Source, Runs: r.Runs,
		Variations: slices.Clone(r.Variations), Culprits: slices.Clone(r.Culprits),
		Nondeterministic: r.Nondeterministic, StartedOn: in.StartedOn.UTC(), FinishedOn: in.FinishedOn.UTC(),
	}
	seen := make(map[string]bool)
	all := true
	for _, prod := range r.Products {
		pr := ProductResult{Name: prod.Path, Reproducible: prod.Reproducible}
		for _, d := range prod.Digests {
			pr.RunDigests = append(pr.RunDigests, strings.TrimPrefix(d, "sha256:"))
		}
		if len(pr.RunDigests) > 0 && pr.RunDigests[0] != "" {
			pr.Digest = map[string]string{"sha256": pr.RunDigests[0]}
		}
		if want, ok := in.Expected[prod.Path]; ok {
			pr.Expected = map[string]string{"sha256": want}
			if pr.Digest["sha256"] != want {
				pr.Reproducible = false
			}
		}
		seen[prod.Path] = true
		all = all && pr.Reproducible
		p.Products = append(p.Products, pr)
	}
	for _, name := range sortedNames(in.Expected) {
		if !seen[name] {
			all = false
			p.Products = append(p.Products, ProductResult{Name: name, Expected: map[string]string{"sha256": in.Expected[name]}})
		}
	}
	switch {
	case len(p.Products) == 0:
		p.Result = OutcomeInconclusive
	case all:
		p.Result = OutcomeReproducible
	default:
		p.Result = OutcomeNotReproducible
	}
	return p, nil
}

func sortedNames(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Statement wraps the predicate in an in-toto Statement v1 whose subjects
// are the products the control build produced, ready to be signed.
func Statement(p *Predicate) (*intoto.Statement, error) {
	var subjects []*intoto.ResourceDescriptor
	for _, pr := range p.Products {
		if pr.Digest != nil {
			subjects = append(subjects, &intoto.ResourceDescriptor{Name: pr.Name, Digest: pr.Digest})
		}
	}
	return statement(p, subjects)
}

// statement encodes p as the predicate of a Statement v1 about subjects:
// the one encoding Statement and RebuildStatement share.
func statement(p *Predicate, subjects []*intoto.ResourceDescriptor) (*intoto.Statement, error) {
	st := &intoto.Statement{Type: intoto.StatementTypeUri, PredicateType: PredicateType, Subject: subjects}
	raw, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode reproducibility predicate: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("encode reproducibility predicate: %w", err)
	}
	if st.Predicate, err = structpb.NewStruct(m); err != nil {
		return nil, fmt.Errorf("encode reproducibility predicate: %w", err)
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("reproducibility statement: %w", err)
	}
	return st, nil
}
