// Package impact finds the deployed artifacts a vulnerability database
// update may change the verdict of: those whose SBOM lists a package that
// an advisory added, modified or removed since the last recheck names
// (matched by OSV ecosystem and package name through the store's package
// index), so that recheck can re-evaluate only them.
package impact
