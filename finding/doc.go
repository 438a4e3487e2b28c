// Package finding defines the result shape shared by Hallmark's scanners
// (misconfiguration, secrets, vulnerabilities, dependency policy): a Finding
// with a rule, a severity, a location and advice, plus severity ordering so
// that `--fail-on` and policy thresholds compare severities the same way.
package finding
