package finding

// Location is where a finding was seen. Line and Column are 1-based; zero
// means unknown. Path is relative to the scanned root, with '/' separators;
// Member names a path inside an archive (e.g. "layer.tar!etc/passwd").
type Location struct {
	Path   string `json:"path"`
	Member string `json:"member,omitempty"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
}

// Finding is one problem a scanner reports. Every field that could carry a
// secret (Message, Evidence) must already be redacted by the scanner.
type Finding struct {
	// RuleID is the stable identifier of the rule (e.g. "HM-DF-001", an OSV ID).
	RuleID string `json:"ruleId"`
	// Title is a one-line summary of the rule.
	Title string `json:"title"`
	// Severity is how bad the finding is.
	Severity Severity `json:"severity"`
	// Message says what was found at this location.
	Message string `json:"message"`
	// Location is where it was found.
	Location Location `json:"location"`
	// Remediation says what to do about it.
	Remediation string `json:"remediation,omitempty"`
	// Rationale says why it matters.
	Rationale string `json:"rationale,omitempty"`
	// References are related rule IDs in other tools or advisory URLs.
	References []string `json:"references,omitempty"`
	// Evidence is a short, redacted excerpt of what matched.
	Evidence string `json:"evidence,omitempty"`
	// Suppressed is set when a finding matched but was waived; it is listed,
	// not dropped, with the reason.
	Suppressed bool `json:"suppressed,omitempty"`
	// SuppressedReason says who waived it and why.
	SuppressedReason string `json:"suppressedReason,omitempty"`
}
