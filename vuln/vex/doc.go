// Package vex decodes OpenVEX documents (https://openvex.dev, spec v0.2.0,
// with the v0.0.1 string forms also accepted) from untrusted input, with
// size and count limits, and answers which statement, if any, applies to a
// vulnerability in a package identified by its purl.
//
// Only statements with status not_affected (which must carry a
// justification or an impact statement) or fixed suppress a finding;
// affected and under_investigation never do. When several statements apply,
// the most recent one (by statement timestamp, else document timestamp;
// later in the input on ties) decides.
package vex
