package tee

import (
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/hallmark-dev/hallmark/internal/limits"
	"github.com/hallmark-dev/hallmark/internal/strictjson"
)

// ReferenceValuesType is the "_type" of a reference-values document.
const ReferenceValuesType = "https://hallmark.dev/tee/reference-values/v1"

// ReferenceValues is the documented JSON file of expected measurements:
//
//	{
//	  "_type": "https://hallmark.dev/tee/reference-values/v1",
//	  "platforms": {
//	    "sev-snp": {
//	      "measurements": {"measurement": ["<96 hex>", "<96 hex>"]},
//	      "minSecurityVersions": {"tcb_snp": 8}
//	    },
//	    "nitro": {"measurements": {"pcr0": ["<96 hex>"], "pcr8": ["<96 hex>"]}}
//	  }
//	}
//
// A measurement named in the file must be present in the claims and equal
// (lowercase hex) to one of the listed values; measurements not named are
// unconstrained. Every minimum security version must be met. Evidence from
// a platform absent from the file does not match.
type ReferenceValues struct {
	// Type is [ReferenceValuesType].
	Type string `json:"_type"`
	// Platforms holds the expectations per platform.
	Platforms map[Platform]PlatformReference `json:"platforms"`
}

// PlatformReference is the expectation for one platform.
type PlatformReference struct {
	// Measurements maps a measurement name (see [Claims.Measurements]) to its accepted values.
	Measurements map[string][]string `json:"measurements"`
	// MinSecurityVersions maps a security-version name (see [Claims.SecurityVersions]) to its minimum.
	MinSecurityVersions map[string]uint64 `json:"minSecurityVersions,omitempty"`
}

// LoadReferenceValues decodes and validates a reference-values document of at
// most [MaxReferenceValues] bytes. Unknown fields are errors, so a typo cannot
// silently drop an expectation.
func LoadReferenceValues(r io.Reader) (*ReferenceValues, error) {
	data, err := limits.ReadAll(r, MaxReferenceValues, "reference values")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrReferenceValues, err)
	}
	return ParseReferenceValues(data)
}

// ParseReferenceValues decodes and validates a reference-values document.
func ParseReferenceValues(data []byte) (*ReferenceValues, error) {
	if err := CheckSize("", "reference_values", len(data), MaxReferenceValues); err != nil {
		return nil, err
	}
	// Exact key case, no unknown or duplicate keys, no trailing data: a
	// "Measurements" beside "measurements" must not pick the values.
	var rv ReferenceValues
	if err := strictjson.Decode(data, &rv); err != nil {
		return nil, fmt.Errorf("%w: decode: %w", ErrReferenceValues, err)
	}
	if err := rv.Validate(); err != nil {
		return nil, err
	}
	return &rv, nil
}

// Validate checks the document's type, platforms, names and hex values.
func (rv *ReferenceValues) Validate() error {
	if rv.Type != ReferenceValuesType {
		return fmt.Errorf("%w: _type %q, want %q", ErrReferenceValues, rv.Type, ReferenceValuesType)
	}
	if len(rv.Platforms) == 0 {
		return fmt.Errorf("%w: no platforms", ErrReferenceValues)
	}
	for p, ref := range rv.Platforms {
		if _, err := ParsePlatform(string(p)); err != nil {
			return fmt.Errorf("%w: platforms: %w", ErrReferenceValues, err)
		}
		if len(ref.Measurements) == 0 && len(ref.MinSecurityVersions) == 0 {
			return fmt.Errorf("%w: platforms.%s: no measurements and no minimum security versions", ErrReferenceValues, p)
		}
		for name, values := range ref.Measurements {
			if name == "" {
				return fmt.Errorf("%w: platforms.%s.measurements: empty name", ErrReferenceValues, p)
			}
			if len(values) == 0 {
				return fmt.Errorf("%w: platforms.%s.measurements.%s: no accepted values", ErrReferenceValues, p, name)
			}
			for i, v := range values {
				if _, err := hex.DecodeString(v); err != nil || v == "" || v != strings.ToLower(v) {
					return fmt.Errorf("%w: platforms.%s.measurements.%s[%d]: %q is not non-empty lowercase hex", ErrReferenceValues, p, name, i, v)
				}
			}
		}
	}
	return nil
}

// Match checks verified claims against the reference for their platform and
// returns an [*Error] wrapping ErrMeasurement or ErrSecurityVersion naming
// the first field that does not match (in name order).
func (rv *ReferenceValues) Match(c *Claims) error {
	ref, ok := rv.Platforms[c.Platform]
	if !ok {
		return Errorf(c.Platform, "reference_values", ErrMeasurement, "reference values list no expectations for this platform")
	}
	for _, name := range slices.Sorted(maps.Keys(ref.Measurements)) {
		got, ok := c.Measurements[name]
		if !ok {
			return Errorf(c.Platform, name, ErrMeasurement, "evidence has no such measurement")
		}
		if !slices.Contains(ref.Measurements[name], got) {
			return Errorf(c.Platform, name, ErrMeasurement, "%s is not among the %d accepted values", got, len(ref.Measurements[name]))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(ref.MinSecurityVersions)) {
		min := ref.MinSecurityVersions[name]
		got, ok := c.SecurityVersions[name]
		if !ok {
			return Errorf(c.Platform, name, ErrSecurityVersion, "evidence has no such security version")
		}
		if got < min {
			return Errorf(c.Platform, name, ErrSecurityVersion, "%d is below the minimum %d", got, min)
		}
	}
	return nil
}

// DeriveReferenceValues builds reference values that accept exactly the
// measurements of verified claims, with their security versions as minimums.
// Use it on a sample from a build environment you trust.
func DeriveReferenceValues(claims ...*Claims) (*ReferenceValues, error) {
	rv := &ReferenceValues{Type: ReferenceValuesType, Platforms: map[Platform]PlatformReference{}}
	for _, c := range claims {
		ref, ok := rv.Platforms[c.Platform]
		if !ok {
			ref = PlatformReference{Measurements: map[string][]string{}}
		}
		for name, v := range c.Measurements {
			if !slices.Contains(ref.Measurements[name], v) {
				ref.Measurements[name] = append(ref.Measurements[name], v)
			}
		}
		for name, v := range c.SecurityVersions {
			if ref.MinSecurityVersions == nil {
				ref.MinSecurityVersions = map[string]uint64{}
			}
			if cur, ok := ref.MinSecurityVersions[name]; !ok || v < cur {
				ref.MinSecurityVersions[name] = v
			}
		}
		rv.Platforms[c.Platform] = ref
	}
	if err := rv.Validate(); err != nil {
		return nil, err
	}
	return rv, nil
}
