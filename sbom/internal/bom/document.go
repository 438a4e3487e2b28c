package bom

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Format is an SBOM document format.
type Format string

// Supported formats.
const (
	CycloneDX Format = "cyclonedx"
	SPDX      Format = "spdx"
)

// In-toto predicate types for signing an SBOM document as an attestation.
const (
	// PredicateCycloneDX is the predicate type of a CycloneDX BOM.
	PredicateCycloneDX = "https://cyclonedx.org/bom"
	// PredicateSPDX is the predicate type of an SPDX 2.x document.
	PredicateSPDX = "https://spdx.dev/Document"
)

// ParseFormat parses a format name ("cyclonedx" or "spdx", case-insensitive).
func ParseFormat(name string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(name))); f {
	case CycloneDX, SPDX:
		return f, nil
	}
	return "", fmt.Errorf("%w: %q (want cyclonedx or spdx)", ErrFormat, name)
}

// PredicateType returns the in-toto predicate type for documents of f.
func (f Format) PredicateType() string {
	if f == SPDX {
		return PredicateSPDX
	}
	return PredicateCycloneDX
}

// DocumentInfo is what a document says about its own making: the NTIA
// "author of SBOM data" and "timestamp" elements.
type DocumentInfo struct {
	// Created is the document timestamp; it is required so that documents
	// are reproducible (pass the build's or the clock's time explicitly).
	Created time.Time
	// Author is the person or organisation responsible for the SBOM data.
	// Empty means the tool itself ("Hallmark").
	Author string
	// ToolVersion is Hallmark's version, recorded as the generating tool.
	ToolVersion string
}

func (d DocumentInfo) validate() error {
	if d.Created.IsZero() {
		return fmt.Errorf("%w: DocumentInfo.Created is zero; inject the document time", ErrEncode)
	}
	return nil
}

func (d DocumentInfo) author() string {
	if d.Author == "" {
		return "Hallmark"
	}
	return d.Author
}

func (d DocumentInfo) toolVersion() string {
	if d.ToolVersion == "" {
		return "devel"
	}
	return d.ToolVersion
}

func (d DocumentInfo) created() string { return d.Created.UTC().Format(time.RFC3339) }

// Document returns the SBOM for inv in format f as JSON: the bytes to write
// to a file or to embed as the predicate of a signed statement (see
// [Format.PredicateType]).
func Document(inv *Inventory, f Format, info DocumentInfo) ([]byte, error) {
	if err := info.validate(); err != nil {
		return nil, err
	}
	switch f {
	case CycloneDX:
		return cycloneDX(inv, info)
	case SPDX:
		return spdxJSON(inv, info)
	}
	return nil, fmt.Errorf("%w: %q", ErrFormat, f)
}

// contentID is a stable identifier for an inventory plus document info, so
// that serial numbers and namespaces are reproducible yet distinct.
func contentID(inv *Inventory, info DocumentInfo) uuid.UUID {
	var b bytes.Buffer
	_ = json.NewEncoder(&b).Encode(inv) // encoding plain structs cannot fail
	b.WriteString(info.created())
	b.WriteString(info.author())
	sum := sha256.Sum256(b.Bytes())
	return uuid.NewSHA1(uuid.NameSpaceURL, sum[:])
}

// rootName is the document's name for the scanned subject.
func rootName(inv *Inventory) string {
	if inv.Subject.Name == "" {
		return "unnamed"
	}
	return inv.Subject.Name
}
