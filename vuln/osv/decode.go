package osv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/hallmark-dev/hallmark/internal/limits"
)

// Limits bound what Decode accepts from untrusted input.
type Limits struct {
	// MaxBytes is the largest encoded record accepted.
	MaxBytes int64
	// MaxAffected is the most affected packages in one record.
	MaxAffected int
	// MaxEvents is the most range events in one affected package.
	MaxEvents int
	// MaxVersions is the most explicit versions in one affected package.
	MaxVersions int
}

// DefaultLimits are generous for real OSV data (the largest published
// records list tens of thousands of versions) and still bound memory.
var DefaultLimits = Limits{
	MaxBytes:    16 << 20,
	MaxAffected: 10_000,
	MaxEvents:   10_000,
	MaxVersions: 200_000,
}

// Errors returned by Decode, wrapped in a *DecodeError.
var (
	// ErrTooLarge means the record exceeds a limit.
	// It is limits.ErrTooLarge.
	ErrTooLarge = limits.ErrTooLarge
	// ErrInvalid means the record is not a well-formed OSV record.
	ErrInvalid = errors.New("invalid OSV record")
)

// DecodeError says which record (by name, usually a file name) failed to
// decode and why.
type DecodeError struct {
	Name string
	Err  error
}

func (e *DecodeError) Error() string { return fmt.Sprintf("osv: decoding %s: %v", e.Name, e.Err) }

// Unwrap returns the underlying error.
func (e *DecodeError) Unwrap() error { return e.Err }

// Decode reads one OSV record of at most lim.MaxBytes from r. name labels
// errors (a file name or URL).
func Decode(r io.Reader, name string, lim Limits) (*Entry, error) {
	data, err := limits.ReadAll(r, lim.MaxBytes, "OSV record")
	if err != nil {
		return nil, &DecodeError{Name: name, Err: err}
	}
	return DecodeBytes(data, name, lim)
}

// DecodeBytes is Decode for a record already in memory.
func DecodeBytes(data []byte, name string, lim Limits) (*Entry, error) {
	if int64(len(data)) > lim.MaxBytes {
		return nil, &DecodeError{Name: name, Err: fmt.Errorf("OSV record: %w (more than %d bytes)", ErrTooLarge, lim.MaxBytes)}
	}
	var e Entry
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&e); err != nil {
		return nil, &DecodeError{Name: name, Err: fmt.Errorf("%w: %v", ErrInvalid, err)}
	}
	if dec.More() {
		return nil, &DecodeError{Name: name, Err: fmt.Errorf("%w: trailing data after the record", ErrInvalid)}
	}
	if err := e.validate(lim); err != nil {
		return nil, &DecodeError{Name: name, Err: err}
	}
	return &e, nil
}

func (e *Entry) validate(lim Limits) error {
	if e.ID == "" {
		return fmt.Errorf("%w: missing id", ErrInvalid)
	}
	if len(e.Affected) > lim.MaxAffected {
		return fmt.Errorf("%w: %s has %d affected packages (limit %d)", ErrTooLarge, e.ID, len(e.Affected), lim.MaxAffected)
	}
	for i, a := range e.Affected {
		if len(a.Versions) > lim.MaxVersions {
			return fmt.Errorf("%w: %s affected[%d] has %d versions (limit %d)", ErrTooLarge, e.ID, i, len(a.Versions), lim.MaxVersions)
		}
		events := 0
		for j, r := range a.Ranges {
			events += len(r.Events)
			switch r.Type {
			case RangeSemver, RangeEcosystem, RangeGit:
			default:
				return fmt.Errorf("%w: %s affected[%d].ranges[%d] has unknown type %q", ErrInvalid, e.ID, i, j, r.Type)
			}
			for k, ev := range r.Events {
				if ev.count() != 1 {
					return fmt.Errorf("%w: %s affected[%d].ranges[%d].events[%d] must set exactly one of introduced, fixed, last_affected, limit", ErrInvalid, e.ID, i, j, k)
				}
			}
		}
		if events > lim.MaxEvents {
			return fmt.Errorf("%w: %s affected[%d] has %d range events (limit %d)", ErrTooLarge, e.ID, i, events, lim.MaxEvents)
		}
	}
	return nil
}

func (ev Event) count() int {
	n := 0
	for _, s := range [...]string{ev.Introduced, ev.Fixed, ev.LastAffected, ev.Limit} {
		if s != "" {
			n++
		}
	}
	return n
}
