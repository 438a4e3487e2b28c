package vex

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/hallmark-dev/hallmark/internal/limits"
	"github.com/hallmark-dev/hallmark/internal/strictjson"
)

// Status is a VEX status.
type Status string

// Statuses defined by OpenVEX.
const (
	StatusNotAffected        Status = "not_affected"
	StatusAffected           Status = "affected"
	StatusFixed              Status = "fixed"
	StatusUnderInvestigation Status = "under_investigation"
)

// Justifications defined by OpenVEX for not_affected.
var justifications = map[string]bool{
	"component_not_present":                             true,
	"vulnerable_code_not_present":                       true,
	"vulnerable_code_not_in_execute_path":               true,
	"vulnerable_code_cannot_be_controlled_by_adversary": true,
	"inline_mitigations_already_exist":                  true,
}

// Document is a decoded OpenVEX document.
type Document struct {
	Context    string      `json:"@context"`
	ID         string      `json:"@id"`
	Author     string      `json:"author"`
	Timestamp  *time.Time  `json:"timestamp,omitempty"`
	Version    json.Number `json:"version,omitempty"`
	Statements []Statement `json:"statements"`
	// Source names where the document was read from (set by Decode).
	Source string `json:"-"`
}

// Statement is one VEX statement.
type Statement struct {
	Vulnerability   Vulnerability `json:"vulnerability"`
	Products        []Product     `json:"products"`
	Status          Status        `json:"status"`
	Justification   string        `json:"justification,omitempty"`
	ImpactStatement string        `json:"impact_statement,omitempty"`
	ActionStatement string        `json:"action_statement,omitempty"`
	Timestamp       *time.Time    `json:"timestamp,omitempty"`
}

// Vulnerability names the vulnerability a statement is about.
type Vulnerability struct {
	ID      string   `json:"@id,omitempty"`
	Name    string   `json:"name"`
	Aliases []string `json:"aliases,omitempty"`
}

// UnmarshalJSON accepts the v0.2.0 object form and the v0.0.1 string form.
func (v *Vulnerability) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &v.Name)
	}
	type plain Vulnerability
	return json.Unmarshal(b, (*plain)(v))
}

// Product is a product (or, in Subcomponents, a component) a statement
// applies to.
type Product struct {
	ID            string            `json:"@id,omitempty"`
	Identifiers   map[string]string `json:"identifiers,omitempty"`
	Subcomponents []Product         `json:"subcomponents,omitempty"`
}

// UnmarshalJSON accepts the v0.2.0 object form and the v0.0.1 string form.
func (p *Product) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &p.ID)
	}
	type plain Product
	return json.Unmarshal(b, (*plain)(p))
}

// purls returns the purls naming p itself.
func (p Product) purls() []string {
	var out []string
	if len(p.ID) > 4 && p.ID[:4] == "pkg:" {
		out = append(out, p.ID)
	}
	if s := p.Identifiers["purl"]; s != "" {
		out = append(out, s)
	}
	return out
}

// Limits bound what Decode accepts.
type Limits struct {
	MaxBytes      int64
	MaxStatements int
	MaxProducts   int
}

// DefaultLimits are the limits used when none are given.
var DefaultLimits = Limits{MaxBytes: 8 << 20, MaxStatements: 50_000, MaxProducts: 100_000}

// Errors returned by Decode, wrapped in a *DecodeError.
var (
	// ErrTooLarge means the document exceeds a limit.
	// It is limits.ErrTooLarge.
	ErrTooLarge = limits.ErrTooLarge
	// ErrInvalid means the document is not valid OpenVEX.
	ErrInvalid = errors.New("invalid OpenVEX document")
)

// DecodeError names the document that failed to decode and why.
type DecodeError struct {
	Source string
	Err    error
}

func (e *DecodeError) Error() string { return fmt.Sprintf("vex: decoding %s: %v", e.Source, e.Err) }

// Unwrap returns the underlying error.
func (e *DecodeError) Unwrap() error { return e.Err }

// Decode reads one OpenVEX JSON document from r; source labels errors.
func Decode(r io.Reader, source string, lim Limits) (*Document, error) {
	data, err := limits.ReadAll(r, lim.MaxBytes, "VEX document")
	if err != nil {
		return nil, &DecodeError{Source: source, Err: err}
	}
	// OpenVEX is a third-party schema: unknown keys are allowed, but the
	// keys read must match exactly (a "Status" beside "status" is refused,
	// not silently preferred), and duplicates and trailing data are refused.
	var d Document
	if err := strictjson.Decode(data, &d, strictjson.AllowUnknownKeys()); err != nil {
		return nil, &DecodeError{Source: source, Err: fmt.Errorf("%w: %w", ErrInvalid, err)}
	}
	d.Source = source
	if err := d.validate(lim); err != nil {
		return nil, &DecodeError{Source: source, Err: err}
	}
	return &d, nil
}

func (d *Document) validate(lim Limits) error {
	if len(d.Context) < len("https://openvex.dev/ns") || d.Context[:len("https://openvex.dev/ns")] != "https://openvex.dev/ns" {
		return fmt.Errorf("%w: @context %q is not an OpenVEX context", ErrInvalid, d.Context)
	}
	if len(d.Statements) > lim.MaxStatements {
		return fmt.Errorf("%w: %d statements (limit %d)", ErrTooLarge, len(d.Statements), lim.MaxStatements)
	}
	products := 0
	for i, s := range d.Statements {
		if s.Vulnerability.Name == "" && s.Vulnerability.ID == "" {
			return fmt.Errorf("%w: statements[%d] names no vulnerability", ErrInvalid, i)
		}
		for _, p := range s.Products {
			products += 1 + len(p.Subcomponents)
		}
		if products > lim.MaxProducts {
			return fmt.Errorf("%w: more than %d products", ErrTooLarge, lim.MaxProducts)
		}
		switch s.Status {
		case StatusNotAffected:
			if s.Justification == "" && s.ImpactStatement == "" {
				return fmt.Errorf("%w: statements[%d] (%s) is not_affected without justification or impact_statement", ErrInvalid, i, s.Vulnerability.Name)
			}
			if s.Justification != "" && !justifications[s.Justification] {
				return fmt.Errorf("%w: statements[%d] (%s) has unknown justification %q", ErrInvalid, i, s.Vulnerability.Name, s.Justification)
			}
		case StatusAffected, StatusFixed, StatusUnderInvestigation:
		default:
			return fmt.Errorf("%w: statements[%d] (%s) has unknown status %q", ErrInvalid, i, s.Vulnerability.Name, s.Status)
		}
	}
	return nil
}
