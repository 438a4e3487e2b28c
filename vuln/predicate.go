package vuln

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"
)

// PredicateType is the in-toto predicate type of Predicate.
const PredicateType = "https://in-toto.io/attestation/vulns/v0.2"

// VulnsPredicate is the in-toto vulns v0.2 predicate.
type VulnsPredicate struct {
	Scanner  PredicateScanner  `json:"scanner"`
	Metadata PredicateMetadata `json:"metadata"`
}

// PredicateScanner identifies the scanner, its database and the result.
type PredicateScanner struct {
	URI     string            `json:"uri"`
	Version string            `json:"version,omitempty"`
	DB      PredicateDB       `json:"db"`
	Result  []PredicateResult `json:"result"`
}

// PredicateDB identifies the vulnerability database state.
type PredicateDB struct {
	URI        string    `json:"uri,omitempty"`
	Version    string    `json:"version,omitempty"`
	LastUpdate time.Time `json:"lastUpdate"`
}

// PredicateResult is one vulnerability.
type PredicateResult struct {
	ID          string              `json:"id"`
	Severity    []PredicateSeverity `json:"severity"`
	Annotations []map[string]any    `json:"annotations,omitempty"`
}

// PredicateSeverity is one severity rating of a result.
type PredicateSeverity struct {
	Method string `json:"method"`
	Score  string `json:"score"`
}

// PredicateMetadata holds the scan times.
type PredicateMetadata struct {
	ScanStartedOn  time.Time `json:"scanStartedOn"`
	ScanFinishedOn time.Time `json:"scanFinishedOn"`
}

// ScannerInfo names the scanner in the predicate.
type ScannerInfo struct {
	// URI identifies the scanner, e.g. "pkg:golang/github.com/hallmark-dev/hallmark".
	URI string
	// Version is the scanner's version.
	Version string
}

// Predicate builds the in-toto vulns v0.2 predicate for a report. In that
// format an empty result means "no vulnerabilities", so Predicate refuses
// (ErrIncomplete) to build one from an incomplete report. Suppressed
// findings stay in the result with annotations naming the VEX statement.
// The database version is a digest over the imported ecosystems' content
// digests, and lastUpdate is the oldest import among them.
func Predicate(rep *Report, scanner ScannerInfo) (*VulnsPredicate, error) {
	if rep == nil {
		return nil, fmt.Errorf("%w: nil report", ErrBadOption)
	}
	if !rep.Complete() {
		return nil, &IncompleteError{Problems: rep.Problems}
	}
	if scanner.URI == "" {
		return nil, fmt.Errorf("%w: scanner URI is required", ErrBadOption)
	}
	p := &VulnsPredicate{
		Scanner:  PredicateScanner{URI: scanner.URI, Version: scanner.Version, Result: []PredicateResult{}},
		Metadata: PredicateMetadata{ScanStartedOn: rep.StartedAt.UTC(), ScanFinishedOn: rep.FinishedAt.UTC()},
	}
	ecos := make([]string, 0, len(rep.Database.Ecosystems))
	for e := range rep.Database.Ecosystems {
		ecos = append(ecos, e)
	}
	sort.Strings(ecos)
	h := sha256.New()
	var sources []string
	for _, e := range ecos {
		m := rep.Database.Ecosystems[e]
		fmt.Fprintf(h, "%s %s\n", e, m.SHA256)
		if p.Scanner.DB.LastUpdate.IsZero() || m.ImportedAt.Before(p.Scanner.DB.LastUpdate) {
			p.Scanner.DB.LastUpdate = m.ImportedAt.UTC()
		}
		sources = append(sources, m.Source)
	}
	p.Scanner.DB.Version = "sha256:" + hex.EncodeToString(h.Sum(nil))
	if len(sources) == 1 {
		p.Scanner.DB.URI = sources[0]
	}
	for _, f := range rep.Findings {
		r := PredicateResult{ID: f.ID, Severity: []PredicateSeverity{{Method: "hallmark", Score: f.Rating.Severity.String()}}}
		if f.Rating.Method == "CVSS_V3" || f.Rating.Method == "CVSS_V4" {
			r.Severity = append(r.Severity, PredicateSeverity{Method: strings.ToLower(f.Rating.Method), Score: formatScore(f.Rating.Score)})
		}
		ann := map[string]any{
			"package":          f.Package.Name,
			"ecosystem":        f.Package.Ecosystem,
			"installedVersion": f.InstalledVersion,
		}
		if f.Package.PURL != "" {
			ann["purl"] = f.Package.PURL
		}
		if len(f.Aliases) > 0 {
			ann["aliases"] = f.Aliases
		}
		if len(f.IDs) > 1 {
			ann["ids"] = f.IDs
		}
		if len(f.FixedVersions) > 0 {
			ann["fixedVersions"] = f.FixedVersions
		}
		if f.Suppressed != nil {
			ann["suppressed"] = true
			ann["vexStatus"] = f.Suppressed.Status
			ann["vexDocument"] = f.Suppressed.Document
			if f.Suppressed.Justification != "" {
				ann["vexJustification"] = f.Suppressed.Justification
			}
		}
		r.Annotations = []map[string]any{ann}
		p.Scanner.Result = append(p.Scanner.Result, r)
	}
	return p, nil
}
