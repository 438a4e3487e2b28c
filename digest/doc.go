// Package digest computes digest sets for files and directory trees.
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
