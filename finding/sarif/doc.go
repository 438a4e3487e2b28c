// Package sarif renders findings as a SARIF 2.1.0 log (Static Analysis
// Results Interchange Format, OASIS), the format code-scanning services
// ingest. Each distinct rule becomes a reportingDescriptor in
// tool.driver.rules; each finding a result with a level, a physical location
// and, when waived, an in-source suppression with its justification.
package sarif
