// Package depcheck applies a dependency policy to an [sbom.Inventory]: packages
// denied or allowed by purl pattern (with optional version ranges), licences
// that must satisfy an allowed list of SPDX expressions, and names that look
// like a popular package's (typosquats such as "crossenv" for "cross-env").
//
// A policy file is decoded and compiled once with [ParsePolicy]; [Check] then
// evaluates any number of inventories against it and returns
// [finding.Finding] values. The file format is documented in docs/depcheck.md.
//
// [sbom.Inventory]: github.com/hallmark-dev/hallmark/sbom.Inventory
// [finding.Finding]: github.com/hallmark-dev/hallmark/finding.Finding
package depcheck
