// Package artifact turns what a user names on the command line into the
// artifact Hallmark makes statements about: a file (named by its path,
// identified by its SHA-256), or a container image (named by its
// repository, identified by its manifest digest, or its index digest for a
// multi-platform image, as cosign and SLSA name images).
//
// An argument is read as:
//
//	sha256:HEX               a bare digest (no name, no content)
//	oci:DIR[:TAG]            an OCI image layout directory
//	docker-archive:FILE      a `docker save` archive
//	registry:REF, docker://REF   an image in a registry
//	an existing path         a file (or, for the commands that scan trees, a directory)
//	REGISTRY/REPO[:TAG|@sha256:HEX]  an image in a registry, when no such path exists
//	                         and the first element names a registry host
//	                         (has a dot or a port, or is "localhost")
//
// Registry access goes through an *oci.Resolver, which holds the
// credentials, CAs and the list of registries allowed plain HTTP.
package artifact
