// Package cli is Hallmark's command tree and its one composition root: each
// command parses flags into a struct, builds the library values it needs
// (keys, store, scanners, policy) and calls one library function, writing to
// the injected App streams and returning an error that Main maps to a
// documented exit code.
package cli
