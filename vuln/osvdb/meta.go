package osvdb

import (
	"time"
)

// FormatVersion is the version of the on-disk layout written by this package.
const FormatVersion = 1

// Meta describes a local database.
type Meta struct {
	// Format is the on-disk layout version (FormatVersion).
	Format int `json:"format"`
	// Ecosystems maps a base OSV ecosystem name (e.g. "Go", "PyPI") to what
	// was imported for it.
	Ecosystems map[string]EcosystemMeta `json:"ecosystems"`
}

// EcosystemMeta is what one import stored for one ecosystem.
type EcosystemMeta struct {
	// Source is the directory, zip file or URL the records came from.
	Source string `json:"source"`
	// ImportedAt is when the import ran.
	ImportedAt time.Time `json:"importedAt"`
	// Records is the number of records stored, withdrawn ones included.
	Records int `json:"records"`
	// Withdrawn is how many of Records are withdrawn.
	Withdrawn int `json:"withdrawn"`
	// NewestModified is the latest "modified" time among the records: how
	// recent the data itself is.
	NewestModified time.Time `json:"newestModified"`
	// File is the record file name under eco/, and Index its package index.
	File  string `json:"file"`
	Index string `json:"index"`
	// SHA256 is the hex digest of the record file.
	SHA256 string `json:"sha256"`
	// Ratings is the file under eco/ mapping record IDs and their aliases
	// to the severity data of the records that carry some (see
	// DB.Ratings); empty in databases imported before it existed.
	Ratings string `json:"ratings,omitempty"`
	// States is the file under eco/ holding each record's content digest
	// and package names, which the next import compares against to log
	// what it changed (see DB.ChangesSince); empty in databases imported
	// before it existed.
	States string `json:"states,omitempty"`
}

// Records returns the total number of records over all ecosystems.
func (m Meta) Records() int {
	n := 0
	for _, e := range m.Ecosystems {
		n += e.Records
	}
	return n
}
