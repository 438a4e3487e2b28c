// Package repro tests whether a build is reproducible and records the result
// as evidence.
//
// [Run] builds a source tree at least twice, each time in a fresh copy at a
// different path, varying between the control build and the experiment what
// reprotest varies: environment variables, build path, HOME, locale, time
// zone, umask, number of CPUs, the clock (through faketime when installed),
// hostname (UTS namespace), user and group IDs (user namespace mapping) and
// directory order. It compares every product by digest and, when a product
// differs, bisects the set of variations to name the one(s) that break
// reproducibility. Variations that cannot be applied on this machine are
// recorded as such in the [Result], never silently skipped.
//
// [NewPredicate] turns a Result into the reproducibility predicate
// (https://hallmark.dev/attestation/reproducibility/v1) and [Statement] wraps
// it in an in-toto Statement v1 whose subjects are the products, ready to be
// signed. The format is documented in docs/repro.md.
//
// The subpackage repro/diff explains why two artifacts differ.
package repro
