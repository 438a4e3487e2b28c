// Package policy is Hallmark's policy engine and the only package that
// imports OPA. A policy is a set of Rego (v1) modules plus a data document;
// [Compile] prepares it once and [Policy.Eval] decides many times whether one
// artifact, given its verified evidence ([Input]), may be deployed.
//
// Evaluation fails closed: an evaluation error, a timeout, an undefined or
// malformed decision all produce a denying [Decision] whose violation says
// what went wrong. Time is never read from a clock: the evaluation time is
// Input.Context.Time, which Rego sees as time.now_ns().
//
// The package embeds Hallmark's built-in policy library (package
// hallmark.builtin.v1 and below, see [BuiltinModules]) and its per-environment
// presets ([BuiltinPresets], [CompilePreset]); docs/policy.md documents the
// input schema, the decision contract and every built-in rule. [Test] runs a
// user's Rego unit tests.
package policy
