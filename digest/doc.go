// Package digest names content by its hash and computes digest sets for
// files and directory trees.
//
// A [Digest] is one algorithm and its hex value ("sha256:<64 hex>"), parsed
// once by [Parse] and passed as that type from a command-line argument to a
// store column; it converts to and from go-containerregistry's v1.Hash.
//
// A [Set] maps an algorithm name to a lower-case hex value. Algorithm names
// match the keys of the in-toto ResourceDescriptor digest set (sha256,
// sha512, gitCommit, dirHash), so a Set can be placed into an attestation
// unchanged.
//
// [File] and [Reader] stream their input through the hash functions with a
// large buffer and never hold a whole file in memory. [Tree] walks a
// directory through an [os.Root], hashes regular files in parallel on a
// worker pool sized by GOMAXPROCS, records symbolic links without following
// them (marking those that point outside the tree), skips paths excluded by
// .gitignore files and returns entries in a deterministic order.
package digest
