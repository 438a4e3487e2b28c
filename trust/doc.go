// Package trust reads the trust file: which public keys are trusted, and for
// which roles (builder, rebuilder, scanner, approver, gate). Evidence counts
// only when its signature verifies against a key trusted for the role its
// kind of evidence needs; Roles answers that question.
//
// The file is YAML (JSON is YAML too):
//
//	version: 1
//	keys:
//	  - name: ci-builder          # a label for people
//	    publicKey: keys/ci.pub    # PEM file, relative to the trust file
//	    roles: [builder, scanner]
//	  - name: alice
//	    publicKeyPEM: |           # or the PEM inline
//	      -----BEGIN PUBLIC KEY-----
//	      ...
//	    roles: [approver]
//	tee:
//	  referenceValues: tee-reference.json   # optional, relative path
//
// A key may also be pinned by ID (`keyId: <hex>`), which must then match the
// key's computed ID.
package trust
