package sbom

import (
	"io"

	"github.com/hallmark-dev/hallmark/sbom/internal/bom"
)

// The inventory model and the document encoders and decoders live in
// sbom/internal/bom, which does not link osv-scalibr (so that fuzzing its
// decoders is fast); these aliases are the public API.
type (
	// Inventory is everything found in one scan, components sorted by PURL.
	Inventory = bom.Inventory
	// Component is one package found in the scanned artifact.
	Component = bom.Component
	// Subject is what was scanned: a directory tree, a root filesystem or a file.
	Subject = bom.Subject
	// Layer is the container image layer that introduced a component.
	Layer = bom.Layer
	// Problem is a file that an extractor matched but could not read.
	Problem = bom.Problem
	// Hash is a hex digest of a component's artifact.
	Hash = bom.Hash
	// HashAlgorithm names a digest algorithm in CycloneDX spelling ("SHA-256").
	HashAlgorithm = bom.HashAlgorithm
	// Format is an SBOM document format.
	Format = bom.Format
	// DocumentInfo is what a document says about its own making: the NTIA
	// "author of SBOM data" and "timestamp" elements.
	DocumentInfo = bom.DocumentInfo
)

// Hash algorithms Hallmark records for components.
const (
	SHA1   = bom.SHA1
	SHA256 = bom.SHA256
	SHA512 = bom.SHA512
)

// Supported document formats.
const (
	CycloneDX = bom.CycloneDX
	SPDX      = bom.SPDX
)

// In-toto predicate types for signing an SBOM document as an attestation.
const (
	// PredicateCycloneDX is the predicate type of a CycloneDX BOM.
	PredicateCycloneDX = bom.PredicateCycloneDX
	// PredicateSPDX is the predicate type of an SPDX 2.x document.
	PredicateSPDX = bom.PredicateSPDX
)

// MaxDocumentSize bounds an SBOM document read by [Decode].
const MaxDocumentSize = bom.MaxDocumentSize

// ParseFormat parses a format name ("cyclonedx" or "spdx", case-insensitive).
func ParseFormat(name string) (Format, error) { return bom.ParseFormat(name) }

// Document returns the SBOM for inv in format f as JSON: the bytes to write
// to a file or to embed as the predicate of a signed statement (see
// [Format.PredicateType]). info.Created is required.
func Document(inv *Inventory, f Format, info DocumentInfo) ([]byte, error) {
	return bom.Document(inv, f, info)
}

// Decode reads a CycloneDX or SPDX 2.x JSON document (detected from its
// content, at most [MaxDocumentSize] bytes) back into an inventory.
// Components without a purl are skipped; the ecosystem comes from
// Hallmark's CycloneDX property when present, else from the purl.
func Decode(r io.Reader) (*Inventory, error) { return bom.Decode(r) }
