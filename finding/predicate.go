package finding

import "time"

// PredicateType is the in-toto predicate type of a signed scan result
// (misconfiguration, secret or dependency-policy findings). Vulnerability
// scans use the in-toto vulns predicate instead.
const PredicateType = "https://hallmark.dev/attestation/findings/v1"

// Kinds of scan a findings predicate may carry.
const (
	KindMisconfig = "misconfig"
	KindSecrets   = "secrets"
	KindDeps      = "deps"
)

// Scanner identifies the tool that produced findings.
type Scanner struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	URI     string `json:"uri,omitempty"`
}

// Predicate is a signed scan result: what was scanned, by what, when, and
// every finding, including suppressed ones (listed with their reason).
type Predicate struct {
	Kind      string    `json:"kind"`
	Scanner   Scanner   `json:"scanner"`
	Target    string    `json:"target"`
	ScannedAt time.Time `json:"scannedAt"`
	Findings  []Finding `json:"findings"`
}

// NewPredicate builds a findings predicate. Findings are copied; a nil list
// becomes empty so the JSON says "none found" explicitly.
func NewPredicate(kind string, scanner Scanner, target string, scannedAt time.Time, fs []Finding) Predicate {
	out := make([]Finding, len(fs))
	copy(out, fs)
	return Predicate{Kind: kind, Scanner: scanner, Target: target, ScannedAt: scannedAt.UTC(), Findings: out}
}
