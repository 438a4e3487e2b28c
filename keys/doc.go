// Package keys generates signing keys, reads and writes them in the
// encrypted format cosign uses, and names public keys by a stable key ID.
//
// Private keys are stored as PEM blocks of type "ENCRYPTED SIGSTORE PRIVATE
// KEY": the PKCS#8 DER encoding of the key, encrypted with NaCl secretbox
// under a key derived from the passphrase with scrypt (the sigstore
// "encrypted" format). Keys written by cosign ("ENCRYPTED COSIGN PRIVATE
// KEY") load too. Public keys are PEM "PUBLIC KEY" blocks (PKIX DER).
//
// The key ID of a public key is the lower-case hex SHA-256 of its PKIX DER
// encoding; it is what bundles carry as their key hint and what trust files
// name.
package keys
