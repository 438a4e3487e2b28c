// Package store defines the evidence store: a narrow interface over which
// Hallmark keeps every verified bundle it produces or accepts, and answers
// "what do we know about this digest?".
//
// Implementations live in subpackages, one native driver each (store/sqlite
// for the embedded default, store/postgres for shared deployments); every
// implementation runs the conformance suite in store/storetest.
package store
