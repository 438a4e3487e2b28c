package bom

import (
	"cmp"
	"slices"
	"strings"
)

// HashAlgorithm names a digest algorithm in CycloneDX spelling ("SHA-256").
type HashAlgorithm string

// Hash algorithms Hallmark records for components.
const (
	SHA1   HashAlgorithm = "SHA-1"
	SHA256 HashAlgorithm = "SHA-256"
	SHA512 HashAlgorithm = "SHA-512"
)

// Hash is a digest of a component's distributed artifact (a tarball, a
// crate, the scanned binary), hex-encoded in lower case.
type Hash struct {
	Algorithm HashAlgorithm `json:"alg"`
	Value     string        `json:"content"`
}

// Component is one package found in the scanned artifact.
type Component struct {
	// Ecosystem is the OSV ecosystem ("Go", "npm", "PyPI", "crates.io",
	// "Maven", "RubyGems", "Debian:12", "Alpine:v3.19").
	Ecosystem string `json:"ecosystem"`
	// Name is the package name as the ecosystem spells it (Maven
	// "group:artifact", npm "@scope/name").
	Name string `json:"name"`
	// Version is the exact version; Go versions carry no leading "v", as in OSV.
	Version string `json:"version"`
	// VersionSource says where Version was taken from when the package's
	// own record does not state it: for the Go standard library of a source
	// tree, "go.mod toolchain directive", "go env GOVERSION" (the go
	// command that builds the tree) or "go.mod go directive" (a minimum,
	// used only when no toolchain is known). Empty otherwise.
	VersionSource string `json:"versionSource,omitempty"`
	// PURL is the package URL; it is the component's unique identifier.
	PURL string `json:"purl"`
	// Locations are the files (relative to the scanned root, '/'-separated)
	// the component was found in, sorted.
	Locations []string `json:"locations,omitempty"`
	// Licenses are SPDX license expressions declared for the component
	// (lockfile or package database metadata, or a detected licence file).
	Licenses []string `json:"licenses,omitempty"`
	// Hashes are digests of the component's artifact where the lockfile or
	// database records one.
	Hashes []Hash `json:"hashes,omitempty"`
	// Source and SourceVersion name the source package an OS package was
	// built from (dpkg "Source", apk origin) when the database records it;
	// OSV advisories for Debian and Alpine are keyed by source package.
	Source        string `json:"source,omitempty"`
	SourceVersion string `json:"sourceVersion,omitempty"`
	// Supplier is who distributes the component, where the metadata names
	// one (a distribution maintainer); empty when unknown.
	Supplier string `json:"supplier,omitempty"`
	// Extractors name the extractors that reported the component.
	Extractors []string `json:"extractors,omitempty"`
	// DependsOn lists the PURLs of the components this one depends on,
	// where the lockfile records the graph (package-lock.json, Cargo.lock);
	// sorted. Nil means unknown, not "no dependencies".
	DependsOn []string `json:"dependsOn,omitempty"`
	// Layer is the image layer that introduced the component; nil outside
	// image scans.
	Layer *Layer `json:"layer,omitempty"`
}

// Layer is a layer of a container image.
type Layer struct {
	// Index is the layer's position, 0 for the bottom layer.
	Index int `json:"index"`
	// DiffID is the digest of the uncompressed layer ("sha256:HEX").
	DiffID string `json:"diffID"`
	// Command is the history entry that made the layer (Dockerfile
	// instruction), where the image records one.
	Command string `json:"command,omitempty"`
}

// Subject is what was scanned: a directory tree, a root filesystem or a file.
type Subject struct {
	// Name is a display name (the base name of the scanned path).
	Name string `json:"name"`
	// Kind is "directory", "file" or "image".
	Kind string `json:"kind"`
	// Hashes are digests of the scanned file (of an image's manifest);
	// empty for a directory.
	Hashes []Hash `json:"hashes,omitempty"`
	// Version is an image's digest ("sha256:HEX"); empty for other kinds.
	Version string `json:"version,omitempty"`
	// PURL is an image's oci purl; empty for other kinds.
	PURL string `json:"purl,omitempty"`
}

// Problem is a file that an extractor matched but could not read; the
// inventory is incomplete for it, and callers should say so.
type Problem struct {
	Path      string `json:"path"`
	Extractor string `json:"extractor"`
	Message   string `json:"message"`
}

// Inventory is everything found in one scan, components sorted by PURL.
type Inventory struct {
	Subject    Subject     `json:"subject"`
	Components []Component `json:"components"`
	// Problems lists files that could not be read, sorted by path.
	Problems []Problem `json:"problems,omitempty"`
}

// Ecosystems returns the distinct ecosystems present, sorted.
func (inv *Inventory) Ecosystems() []string {
	var out []string
	for _, c := range inv.Components {
		if !slices.Contains(out, c.Ecosystem) {
			out = append(out, c.Ecosystem)
		}
	}
	slices.Sort(out)
	return out
}

func SortComponents(cs []Component) {
	slices.SortFunc(cs, func(a, b Component) int {
		return cmp.Or(cmp.Compare(a.PURL, b.PURL), cmp.Compare(a.Ecosystem, b.Ecosystem),
			cmp.Compare(a.Name, b.Name), cmp.Compare(a.Version, b.Version))
	})
}

// Merge adds src's locations, licences, hashes, extractors and edges to
// dst, the same package found again.
func Merge(dst *Component, src Component) {
	dst.Locations = append(dst.Locations, src.Locations...)
	dst.Licenses = append(dst.Licenses, src.Licenses...)
	dst.Hashes = append(dst.Hashes, src.Hashes...)
	dst.Extractors = append(dst.Extractors, src.Extractors...)
	dst.DependsOn = append(dst.DependsOn, src.DependsOn...)
	if dst.Supplier == "" {
		dst.Supplier = src.Supplier
	}
}

// Normalize sorts and de-duplicates a component's lists.
func Normalize(c *Component) {
	for _, s := range []*[]string{&c.Locations, &c.Licenses, &c.Extractors, &c.DependsOn} {
		slices.Sort(*s)
		*s = slices.Compact(*s)
	}
	slices.SortFunc(c.Hashes, func(a, b Hash) int {
		return strings.Compare(string(a.Algorithm)+a.Value, string(b.Algorithm)+b.Value)
	})
	c.Hashes = slices.Compact(c.Hashes)
}
