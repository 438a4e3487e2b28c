package store

import (
	"context"
	"errors"
	"time"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/digest"
)

// ErrNotFound is returned by Get when no record has the ID.
var ErrNotFound = errors.New("evidence not found")

// ErrBadQuery is returned when a query is malformed.
var ErrBadQuery = errors.New("bad evidence query")

// ErrIntegrity is returned by Check when the check ran and found the store
// inconsistent (as opposed to failing to run).
var ErrIntegrity = errors.New("integrity check failed")

// Record is one stored piece of evidence: a verified bundle and the facts
// extracted from it for lookup.
type Record struct {
	// ID is the verified bundle's ID ("sha256:<hex of the bundle bytes>").
	ID string `json:"id"`
	// PredicateType is the statement's predicate type URI.
	PredicateType string `json:"predicateType"`
	// Subjects are the statement's subjects.
	Subjects []attest.Subject `json:"subjects"`
	// Signers are the key IDs whose signatures verified when it was stored.
	Signers []string `json:"signers"`
	// StoredAt is when the store accepted it.
	StoredAt time.Time `json:"storedAt"`
	// Bundle is the bundle exactly as verified.
	Bundle []byte `json:"-"`
}

// NewRecord is the record a store keeps for v, accepted at storedAt.
func NewRecord(v *attest.Verified, storedAt time.Time) Record {
	return Record{
		ID:            v.ID,
		PredicateType: v.PredicateType,
		Subjects:      v.Subjects(),
		Signers:       v.SignerIDs(),
		StoredAt:      storedAt,
		Bundle:        v.Raw,
	}
}

// Query selects records. Zero fields do not constrain. Results are ordered
// by StoredAt, oldest first, then by ID, unless Newest is set.
type Query struct {
	// Subject selects records with this subject digest.
	Subject digest.Digest
	// PredicateType is an exact predicate type URI.
	PredicateType string
	// ExcludePredicateTypes leaves out records of these predicate types
	// (the gate skips its own VSAs and decisions this way).
	ExcludePredicateTypes []string
	// Signer is a key ID.
	Signer string
	// Since and Until bound StoredAt (inclusive, exclusive).
	Since, Until time.Time
	// Limit caps the number of results; 0 means no cap. With Newest it keeps
	// the most recent records, without it the oldest.
	Limit int
	// Newest orders results newest first: by StoredAt descending, then by ID
	// descending (the exact reverse of the default order).
	Newest bool
}

// Store keeps verified evidence. Put only takes *attest.Verified, so
// nothing that failed verification can be stored. Implementations must make
// Put atomic and durable before it returns: an acknowledged record survives
// a crash of the process.
type Store interface {
	// Put stores verified evidence. Storing the same bundle twice is not an
	// error: the existing record is returned.
	Put(ctx context.Context, v *attest.Verified) (Record, error)
	// Get returns one record by ID.
	Get(ctx context.Context, id string) (Record, error)
	// List returns the records matching q.
	List(ctx context.Context, q Query) ([]Record, error)
	// Close releases the store.
	Close() error
}

// Batcher is implemented by stores that can store several pieces of
// evidence in one transaction: all are stored, or none. The gate uses it to
// record a VSA and its decision with one durable commit.
type Batcher interface {
	// PutAll stores vs atomically; existing bundles are returned as stored.
	PutAll(ctx context.Context, vs []*attest.Verified) ([]Record, error)
}

// Checker is implemented by stores that can check their own integrity.
type Checker interface {
	// Check verifies the store's on-disk structures.
	Check(ctx context.Context) error
}

// Check runs s's integrity check: nil if s is consistent, an error wrapping
// ErrIntegrity if the check found it is not, any other error if the check
// could not run (or s has none).
func Check(ctx context.Context, s Store) error {
	c, ok := s.(Checker)
	if !ok {
		return errors.New("this evidence store cannot check its integrity")
	}
	return c.Check(ctx)
}

// Deleter is implemented by stores that can forget evidence. Retention
// (package retention) decides what may go; a store only removes what it is
// told to, atomically.
type Deleter interface {
	// Delete removes the records with these IDs, with their subject and
	// signer rows, in one transaction: all of them or none. IDs that are not
	// stored are skipped. It returns how many records it removed.
	Delete(ctx context.Context, ids []string) (int, error)
}

// Compacter is implemented by stores that can give the space of deleted
// records back to the file system (SQLite's and PostgreSQL's VACUUM).
type Compacter interface {
	// Compact reclaims free space. It may take a while and block writers.
	Compact(ctx context.Context) error
}

// Package is one package an SBOM lists, as vulnerability advisories name
// it: the OSV base ecosystem ("Go", "npm", "Debian") and the name
// normalized as the OSV database indexes it.
type Package struct {
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
}

// PackageIndexer is implemented by stores that index the packages SBOM
// records list, so that the artifacts a new advisory touches are found
// with one index query instead of reading every SBOM (package impact).
type PackageIndexer interface {
	// IndexPackages records, per stored SBOM record ID, the packages it
	// lists (replacing what was indexed for it; an empty list marks it
	// indexed), all in one transaction.
	IndexPackages(ctx context.Context, byRecord map[string][]Package) error
	// Unindexed returns up to limit IDs of records of these predicate
	// types whose packages are not indexed yet.
	Unindexed(ctx context.Context, predicateTypes []string, limit int) ([]string, error)
	// SubjectsWithPackages returns the subjects ("sha256:HEX") of indexed
	// records listing any of pkgs, sorted.
	SubjectsWithPackages(ctx context.Context, pkgs []Package) ([]string, error)
	// SubjectsIndexed returns which of subjects ("sha256:HEX") some
	// indexed record is about, sorted.
	SubjectsIndexed(ctx context.Context, subjects []string) ([]string, error)
}

// Sizer is implemented by stores that can tell how many bytes their
// records take on disk, indexes included (free space excluded).
type Sizer interface {
	Size(ctx context.Context) (int64, error)
}

// IDLister is implemented by stores that can answer a query with record
// IDs alone, and read the bundles of chosen records: an admission miss
// lists an artifact's evidence and reads only the bundles its verification
// cache does not hold, instead of every bundle, subject and signer.
type IDLister interface {
	// ListIDs returns the IDs of the records List(q) returns, in the same
	// order.
	ListIDs(ctx context.Context, q Query) ([]string, error)
	// Bundles returns the bundles of the records with these IDs, by ID, in
	// one query. IDs that are not stored are absent from the map.
	Bundles(ctx context.Context, ids []string) (map[string][]byte, error)
}

// IDExplainer is implemented by stores that can show the plans of
// IDLister's queries, which an admission miss runs.
type IDExplainer interface {
	// ExplainListIDs returns the plan of ListIDs(q).
	ExplainListIDs(ctx context.Context, q Query) (Plan, error)
	// ExplainBundles returns the plan of Bundles(ids).
	ExplainBundles(ctx context.Context, ids []string) (Plan, error)
}
