package diff

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Cause is a likely reason for a difference.
type Cause string

// The causes the comparer can infer.
const (
	// CauseTimestamp: a build time, file modification time or epoch.
	CauseTimestamp Cause = "timestamp"
	// CauseBuildPath: an absolute build directory embedded in the output.
	CauseBuildPath Cause = "build-path"
	// CauseLocale: a locale or time-zone name or format.
	CauseLocale Cause = "locale-timezone"
	// CauseFileOrder: the same archive members in a different order.
	CauseFileOrder Cause = "file-order"
	// CauseOrdering: the same lines or JSON values in a different order,
	// as produced by hash-map iteration or parallel output.
	CauseOrdering Cause = "unstable-ordering"
	// CauseFileMode: permission bits that follow the umask.
	CauseFileMode Cause = "file-mode"
	// CauseBuildUser: owner IDs or names of the building user.
	CauseBuildUser Cause = "build-user"
	// CauseRandomness: high-entropy bytes with no other explanation.
	CauseRandomness Cause = "randomness"
	// CauseToolchain: a different compiler or toolchain version.
	CauseToolchain Cause = "toolchain-version"
	// CauseBuildFlags: different build settings (flags, GOOS, CGO_ENABLED).
	CauseBuildFlags Cause = "build-flags"
	// CauseSource: different inputs (VCS revision, module versions).
	CauseSource Cause = "source"
)

// Kind says what sort of difference was found.
type Kind string

// The kinds of difference.
const (
	KindOnlyInA   Kind = "only-in-a" // a member exists only in A
	KindOnlyInB   Kind = "only-in-b" // a member exists only in B
	KindMetadata  Kind = "metadata"  // an archive or compression header field
	KindOrder     Kind = "order"     // member order
	KindFormat    Kind = "format"    // the two sides are different formats
	KindBuildInfo Kind = "buildinfo" // Go build information
	KindBuildID   Kind = "build-id"  // Go or GNU build ID
	KindPaths     Kind = "paths"     // embedded absolute paths
	KindSection   Kind = "section"   // an ELF section
	KindText      Kind = "text"      // a unified diff of text or JSON
	KindBytes     Kind = "bytes"     // differing byte ranges
	KindContent   Kind = "content"   // content differs, not explained further
)

// Difference is one explained difference between A and B.
type Difference struct {
	// Path locates the difference: archive members joined by "!", e.g.
	// "pkg.tar!usr/bin/tool". Empty means the artifacts themselves.
	Path string `json:"path"`
	// Kind says what sort of difference this is.
	Kind Kind `json:"kind"`
	// Field names what differs within Path: a header field ("mtime"), an
	// ELF section (".rodata"), a build setting ("-trimpath").
	Field string `json:"field,omitempty"`
	// A and B are short renderings of the two values.
	A string `json:"a,omitempty"`
	B string `json:"b,omitempty"`
	// Offset is the first differing byte offset for KindBytes and
	// KindSection, or -1.
	Offset int64 `json:"offset"`
	// Diff is a unified diff for KindText.
	Diff string `json:"diff,omitempty"`
	// Causes are the likely causes, most specific first; empty when none
	// could be inferred.
	Causes []Cause `json:"causes,omitempty"`
	// Detail is a human-readable explanation.
	Detail string `json:"detail,omitempty"`
}

// Report is the result of comparing two artifacts.
type Report struct {
	// A and B name the compared artifacts.
	A string `json:"a"`
	B string `json:"b"`
	// DigestA and DigestB are "sha256:<hex>" digests of the artifacts.
	DigestA string `json:"digestA"`
	DigestB string `json:"digestB"`
	// Identical is true when the digests are equal.
	Identical bool `json:"identical"`
	// Differences lists what differs, in the order found.
	Differences []Difference `json:"differences"`
	// Truncated is true when more differences existed than were reported.
	Truncated bool `json:"truncated,omitempty"`
	// Notes record limits reached and parts that could not be explained.
	Notes []string `json:"notes,omitempty"`
}

// Causes returns the distinct causes over all differences, sorted.
func (r *Report) Causes() []Cause {
	var out []Cause
	for _, d := range r.Differences {
		for _, c := range d.Causes {
			if !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	slices.Sort(out)
	return out
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write diff report: %w", err)
	}
	return nil
}

// WriteText writes the report for a human reader.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "--- %s\t%s\n+++ %s\t%s\n", r.A, r.DigestA, r.B, r.DigestB)
	if r.Identical {
		b.WriteString("identical\n")
	} else {
		fmt.Fprintf(&b, "%d difference(s)", len(r.Differences))
		if r.Truncated {
			b.WriteString(" (truncated)")
		}
		if cs := r.Causes(); len(cs) > 0 {
			b.WriteString("; likely causes: ")
			for i, c := range cs {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(string(c))
			}
		}
		b.WriteString("\n")
	}
	for _, d := range r.Differences {
		b.WriteString("\n")
		fmt.Fprintf(&b, "* %s [%s]", displayPath(d.Path), d.Kind)
		if d.Field != "" {
			fmt.Fprintf(&b, " %s", d.Field)
		}
		if len(d.Causes) > 0 {
			b.WriteString("  cause: ")
			for i, c := range d.Causes {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(string(c))
			}
		}
		b.WriteString("\n")
		if d.A != "" || d.B != "" {
			fmt.Fprintf(&b, "    A: %s\n    B: %s\n", d.A, d.B)
		}
		if d.Offset >= 0 {
			fmt.Fprintf(&b, "    first difference at offset %d (0x%x)\n", d.Offset, d.Offset)
		}
		if d.Detail != "" {
			fmt.Fprintf(&b, "    %s\n", d.Detail)
		}
		if d.Diff != "" {
			for line := range strings.Lines(d.Diff) {
				b.WriteString("    ")
				b.WriteString(line)
			}
			if !strings.HasSuffix(d.Diff, "\n") {
				b.WriteString("\n")
			}
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write diff report: %w", err)
	}
	return nil
}
