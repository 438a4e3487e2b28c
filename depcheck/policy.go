package depcheck

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/github/go-spdx/v2/spdxexp"
	"gopkg.in/yaml.v3"

	"github.com/hallmark-dev/hallmark/finding"
	"github.com/hallmark-dev/hallmark/internal/limits"
)

// MaxPolicySize bounds a policy file.
const MaxPolicySize = 1 << 20

// File is the policy file as written (YAML, or JSON, which is valid YAML).
// docs/depcheck.md documents every field.
type File struct {
	// Version must be 1.
	Version int `yaml:"version"`
	// Deny lists packages that must not be used.
	Deny []Rule `yaml:"deny"`
	// Allow lists packages exempt from Deny and from look-alike detection.
	Allow []Rule `yaml:"allow"`
	// Licenses, when present, requires every component's licence to satisfy
	// the allowed list.
	Licenses *LicenseRules `yaml:"licenses"`
	// Lookalike configures typosquat detection; it is on by default.
	Lookalike *LookalikeRules `yaml:"lookalike"`
}

// Rule is one purl pattern with why it is listed.
type Rule struct {
	PURL   string `yaml:"purl"`
	Reason string `yaml:"reason"`
	// Severity of a deny finding; default high.
	Severity string `yaml:"severity"`
}

// LicenseRules is the licence section of a policy file.
type LicenseRules struct {
	// Allow lists SPDX licence identifiers or expressions ("MIT",
	// "Apache-2.0", "GPL-2.0-or-later WITH Classpath-exception-2.0"); a
	// component's licence expression must be satisfiable using only these.
	Allow []string `yaml:"allow"`
	// Unknown says what to do with a component whose licence is unknown or
	// not a valid SPDX expression: "deny", "warn" (default) or "ignore".
	Unknown string `yaml:"unknown"`
	// Severity of a disallowed-licence finding; default medium.
	Severity string `yaml:"severity"`
	// Exceptions are packages whose licence is not checked.
	Exceptions []Rule `yaml:"exceptions"`
}

// LookalikeRules is the look-alike section of a policy file.
type LookalikeRules struct {
	// Enabled turns detection off when false; default true.
	Enabled *bool `yaml:"enabled"`
	// MaxDistance is the largest edit distance reported as a look-alike
	// (beyond the named transformations); default 1, 0 disables it.
	MaxDistance *int `yaml:"maxDistance"`
	// MinLength skips candidate names shorter than this; default 4.
	MinLength *int `yaml:"minLength"`
	// Popular adds names per OSV ecosystem ("npm", "PyPI", "Go",
	// "crates.io", "RubyGems", "Maven") to the lists shipped with Hallmark.
	Popular map[string][]string `yaml:"popular"`
	// Severity of a look-alike finding; default high.
	Severity string `yaml:"severity"`
}

type rule struct {
	pattern  Pattern
	reason   string
	severity finding.Severity
}

// Unknown-licence actions.
const (
	UnknownDeny   = "deny"
	UnknownWarn   = "warn"
	UnknownIgnore = "ignore"
)

// Policy is a compiled policy file, ready to [Check] many inventories.
type Policy struct {
	deny, allow       []rule
	licenseAllow      []string // nil: no licence checks
	licenseUnknown    string
	licenseSeverity   finding.Severity
	licenseExceptions []rule
	lookalike         *lookalikeIndex // nil: disabled
	lookalikeSeverity finding.Severity
}

// LoadPolicy reads and compiles a policy file.
func LoadPolicy(path string) (*Policy, error) {
	data, err := limits.ReadFile(path, MaxPolicySize)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPolicy, err)
	}
	p, err := ParsePolicy(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// ParsePolicy decodes and compiles a policy file. Unknown fields are
// errors, so that a misspelt rule is not silently ignored.
func ParsePolicy(data []byte) (*Policy, error) {
	if len(data) > MaxPolicySize {
		return nil, fmt.Errorf("depcheck: policy file: %w (%d bytes, limit %d)", ErrTooLarge, len(data), MaxPolicySize)
	}
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: %w", ErrPolicy, err)
	}
	return Compile(f)
}

// Compile checks a decoded policy file and prepares it for evaluation.
func Compile(f File) (*Policy, error) {
	if f.Version != 1 {
		return nil, &PolicyError{Field: "version", Err: fmt.Errorf("%w: got %d, want 1", ErrPolicy, f.Version)}
	}
	p := &Policy{}
	var err error
	if p.deny, err = compileRules("deny", f.Deny, finding.SeverityHigh); err != nil {
		return nil, err
	}
	if p.allow, err = compileRules("allow", f.Allow, finding.SeverityInfo); err != nil {
		return nil, err
	}
	if l := f.Licenses; l != nil {
		if len(l.Allow) == 0 {
			return nil, &PolicyError{Field: "licenses.allow", Err: fmt.Errorf("%w: empty; list the allowed SPDX licences or drop the licenses section", ErrPolicy)}
		}
		for i, a := range l.Allow {
			if ok, bad := spdxexp.ValidateLicenses([]string{a}); !ok {
				return nil, &PolicyError{Field: fmt.Sprintf("licenses.allow[%d]", i), Err: fmt.Errorf("%w: %q is not a valid SPDX expression %v", ErrPolicy, a, bad)}
			}
		}
		p.licenseAllow = l.Allow
		switch p.licenseUnknown = strings.ToLower(l.Unknown); p.licenseUnknown {
		case "":
			p.licenseUnknown = UnknownWarn
		case UnknownDeny, UnknownWarn, UnknownIgnore:
		default:
			return nil, &PolicyError{Field: "licenses.unknown", Err: fmt.Errorf("%w: %q (want deny, warn or ignore)", ErrPolicy, l.Unknown)}
		}
		if p.licenseSeverity, err = severity("licenses.severity", l.Severity, finding.SeverityMedium); err != nil {
			return nil, err
		}
		if p.licenseExceptions, err = compileRules("licenses.exceptions", l.Exceptions, finding.SeverityInfo); err != nil {
			return nil, err
		}
	}
	l := f.Lookalike
	if l == nil {
		l = &LookalikeRules{}
	}
	if l.Enabled == nil || *l.Enabled {
		maxDist, minLen := 1, 4
		if l.MaxDistance != nil {
			if maxDist = *l.MaxDistance; maxDist < 0 || maxDist > 3 {
				return nil, &PolicyError{Field: "lookalike.maxDistance", Err: fmt.Errorf("%w: %d (want 0 to 3)", ErrPolicy, maxDist)}
			}
		}
		if l.MinLength != nil {
			if minLen = *l.MinLength; minLen < 1 {
				return nil, &PolicyError{Field: "lookalike.minLength", Err: fmt.Errorf("%w: %d (want at least 1)", ErrPolicy, minLen)}
			}
		}
		popular, err := mergePopular(Popular(), l.Popular)
		if err != nil {
			return nil, &PolicyError{Field: "lookalike.popular", Err: fmt.Errorf("%w: %w", ErrPolicy, err)}
		}
		p.lookalike = newLookalikeIndex(popular, maxDist, minLen)
		if p.lookalikeSeverity, err = severity("lookalike.severity", l.Severity, finding.SeverityHigh); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func compileRules(field string, rs []Rule, def finding.Severity) ([]rule, error) {
	out := make([]rule, 0, len(rs))
	for i, r := range rs {
		pat, err := ParsePattern(r.PURL)
		if err != nil {
			return nil, &PolicyError{Field: fmt.Sprintf("%s[%d].purl", field, i), Err: err}
		}
		sev, err := severity(fmt.Sprintf("%s[%d].severity", field, i), r.Severity, def)
		if err != nil {
			return nil, err
		}
		out = append(out, rule{pattern: pat, reason: r.Reason, severity: sev})
	}
	return out, nil
}

func severity(field, s string, def finding.Severity) (finding.Severity, error) {
	if s == "" {
		return def, nil
	}
	v, err := finding.ParseSeverity(s)
	if err != nil {
		return 0, &PolicyError{Field: field, Err: fmt.Errorf("%w: %w", ErrPolicy, err)}
	}
	return v, nil
}
