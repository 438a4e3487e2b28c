package sarif

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/hallmark-dev/hallmark/finding"
)

// Version is the SARIF version written.
const Version = "2.1.0"

// SchemaURI is the $schema written into every log.
const SchemaURI = "https://json.schemastore.org/sarif-2.1.0.json"

// ErrNoToolName is returned when Tool.Name is empty; SARIF requires it.
var ErrNoToolName = errors.New("sarif: tool name is required")

// Tool names the program that produced the findings.
type Tool struct {
	Name           string
	Version        string
	InformationURI string
}

// Log is a SARIF log with one run. Its fields follow the SARIF 2.1.0 object
// model; only the properties Hallmark fills are present.
type Log struct {
	Schema  string `json:"$schema"`
	Version string `json:"version"`
	Runs    []Run  `json:"runs"`
}

// Run is one invocation of one tool.
type Run struct {
	Tool    ToolObject `json:"tool"`
	Results []Result   `json:"results"`
	// OriginalURIBaseIDs says what %SRCROOT% stood for (an absolute file
	// URI of the repository root), when the caller knows it.
	OriginalURIBaseIDs map[string]ArtifactLocation `json:"originalUriBaseIds,omitempty"`
}

// ToolObject wraps the driver component.
type ToolObject struct {
	Driver Driver `json:"driver"`
}

// Driver is the tool component that ran, with its rules.
type Driver struct {
	Name           string       `json:"name"`
	Version        string       `json:"version,omitempty"`
	InformationURI string       `json:"informationUri,omitempty"`
	Rules          []Descriptor `json:"rules"`
}

// Descriptor describes one rule (a SARIF reportingDescriptor).
type Descriptor struct {
	ID                   string         `json:"id"`
	ShortDescription     *Message       `json:"shortDescription,omitempty"`
	FullDescription      *Message       `json:"fullDescription,omitempty"`
	Help                 *Message       `json:"help,omitempty"`
	DefaultConfiguration *Configuration `json:"defaultConfiguration,omitempty"`
	Properties           *Properties    `json:"properties,omitempty"`
}

// Configuration is a rule's default reporting configuration.
type Configuration struct {
	Level string `json:"level"`
}

// Properties is a SARIF property bag with the keys Hallmark uses.
type Properties struct {
	Tags []string `json:"tags,omitempty"`
	// SecuritySeverity is a CVSS-like score as a string, which GitHub code
	// scanning reads to rank security results.
	SecuritySeverity string `json:"security-severity,omitempty"`
	Severity         string `json:"severity,omitempty"`
	Member           string `json:"member,omitempty"`
}

// Message is a SARIF message object (plain text only).
type Message struct {
	Text string `json:"text"`
}

// Result is one finding.
type Result struct {
	RuleID    string     `json:"ruleId"`
	RuleIndex int        `json:"ruleIndex"`
	Level     string     `json:"level"`
	Message   Message    `json:"message"`
	Locations []Location `json:"locations,omitempty"`
	// PartialFingerprints identify the result across runs even when lines
	// move, so code-scanning services do not reopen waived or fixed alerts.
	PartialFingerprints map[string]string `json:"partialFingerprints,omitempty"`
	Suppressions        []Suppression     `json:"suppressions,omitempty"`
	Properties          *Properties       `json:"properties,omitempty"`
}

// Location wraps a physical location.
type Location struct {
	PhysicalLocation PhysicalLocation `json:"physicalLocation"`
}

// PhysicalLocation is a file and optionally a region in it.
type PhysicalLocation struct {
	ArtifactLocation ArtifactLocation `json:"artifactLocation"`
	Region           *Region          `json:"region,omitempty"`
}

// ArtifactLocation is a URI relative to %SRCROOT%, the repository root
// (callers make finding paths relative to it).
type ArtifactLocation struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

// Region is a 1-based line (and column) range.
type Region struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
}

// Suppression records that a result was waived.
type Suppression struct {
	Kind          string `json:"kind"`
	Justification string `json:"justification,omitempty"`
}

// FingerprintKey names Hallmark's partial fingerprint in results.
const FingerprintKey = "hallmarkFinding/v1"

// fingerprint hashes what identifies a finding apart from its line: rule,
// file, archive member and evidence.
func fingerprint(f finding.Finding) string {
	h := sha256.New()
	for _, s := range []string{f.RuleID, f.Location.Path, f.Location.Member, f.Evidence} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// Level maps a severity to a SARIF result level: critical and high are
// "error", medium and unknown "warning", low and info "note".
func Level(s finding.Severity) string {
	switch s {
	case finding.SeverityCritical, finding.SeverityHigh:
		return "error"
	case finding.SeverityLow, finding.SeverityInfo:
		return "note"
	default:
		return "warning"
	}
}

// securityScore maps a severity to the score range GitHub uses for it.
func securityScore(s finding.Severity) string {
	switch s {
	case finding.SeverityCritical:
		return "9.5"
	case finding.SeverityHigh:
		return "8.0"
	case finding.SeverityMedium:
		return "5.5"
	case finding.SeverityLow:
		return "3.0"
	case finding.SeverityInfo:
		return "0.0"
	}
	return ""
}

// Build converts findings into a SARIF log. Rules are listed once each, in
// order of first appearance, described from the first finding that names
// them.
func Build(tool Tool, findings []finding.Finding) (*Log, error) {
	if tool.Name == "" {
		return nil, ErrNoToolName
	}
	d := Driver{Name: tool.Name, Version: tool.Version, InformationURI: tool.InformationURI, Rules: []Descriptor{}}
	index := map[string]int{}
	results := make([]Result, 0, len(findings))
	for _, f := range findings {
		if f.RuleID == "" {
			return nil, fmt.Errorf("sarif: finding at %s has no rule ID", f.Location.Path)
		}
		i, ok := index[f.RuleID]
		if !ok {
			i = len(d.Rules)
			index[f.RuleID] = i
			d.Rules = append(d.Rules, descriptor(f))
		}
		r := Result{
			RuleID:    f.RuleID,
			RuleIndex: i,
			Level:     Level(f.Severity),
			Message:   Message{Text: nonEmpty(f.Message, f.Title, f.RuleID)},
		}
		if f.Location.Path != "" {
			pl := PhysicalLocation{ArtifactLocation: ArtifactLocation{URI: uri(f.Location.Path), URIBaseID: "%SRCROOT%"}}
			if f.Location.Line > 0 {
				pl.Region = &Region{StartLine: f.Location.Line}
				if f.Location.Column > 0 {
					pl.Region.StartColumn = f.Location.Column
				}
			}
			r.Locations = []Location{{PhysicalLocation: pl}}
		}
		r.PartialFingerprints = map[string]string{FingerprintKey: fingerprint(f)}
		props := &Properties{Severity: f.Severity.String(), Member: f.Location.Member}
		r.Properties = props
		if f.Suppressed {
			r.Suppressions = []Suppression{{Kind: "inSource", Justification: f.SuppressedReason}}
		}
		results = append(results, r)
	}
	return &Log{Schema: SchemaURI, Version: Version, Runs: []Run{{Tool: ToolObject{Driver: d}, Results: results}}}, nil
}

// WriteOption adjusts the log Write produces.
type WriteOption func(*Log)

// WithSrcRoot records the absolute directory that %SRCROOT% (the base of
// every artifact URI) stands for, as run.originalUriBaseIds.
func WithSrcRoot(dir string) WriteOption {
	return func(l *Log) {
		if dir == "" {
			return
		}
		u := (&url.URL{Scheme: "file", Path: filepath.ToSlash(dir)}).String()
		if !strings.HasSuffix(u, "/") {
			u += "/"
		}
		for i := range l.Runs {
			l.Runs[i].OriginalURIBaseIDs = map[string]ArtifactLocation{"%SRCROOT%": {URI: u}}
		}
	}
}

// Write builds the log and writes it as indented JSON.
func Write(w io.Writer, tool Tool, findings []finding.Finding, opts ...WriteOption) error {
	l, err := Build(tool, findings)
	if err != nil {
		return err
	}
	for _, o := range opts {
		o(l)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(l); err != nil {
		return fmt.Errorf("sarif: write: %w", err)
	}
	return nil
}

func descriptor(f finding.Finding) Descriptor {
	d := Descriptor{
		ID:                   f.RuleID,
		DefaultConfiguration: &Configuration{Level: Level(f.Severity)},
		Properties: &Properties{
			Tags:             append([]string{"security"}, f.References...),
			SecuritySeverity: securityScore(f.Severity),
		},
	}
	if f.Title != "" {
		d.ShortDescription = &Message{Text: f.Title}
	}
	if f.Rationale != "" {
		d.FullDescription = &Message{Text: f.Rationale}
	}
	if f.Remediation != "" {
		d.Help = &Message{Text: f.Remediation}
	}
	return d
}

// uri turns a '/'-separated relative path into a URI reference, escaping
// what URIs cannot hold (spaces, '%', '#', '?').
func uri(p string) string {
	p = strings.TrimPrefix(p, "/")
	if first, _, _ := strings.Cut(p, "/"); strings.Contains(first, ":") {
		// Keep "c:x/y" from reading as a URI with scheme "c".
		p = "./" + p
	}
	u := url.URL{Path: p}
	return u.EscapedPath()
}

func nonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
