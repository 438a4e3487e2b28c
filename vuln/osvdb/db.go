package osvdb

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/hallmark-dev/hallmark/internal/limits"
	"github.com/hallmark-dev/hallmark/vuln/osv"
)

const (
	metaFile = "meta.json"
	ecoDir   = "eco"
	// maxMetaBytes and maxIndexBytes bound files read back from disk.
	maxMetaBytes  = 1 << 20
	maxIndexBytes = 512 << 20
)

// DB is an opened local database. It is safe for concurrent use. Close
// releases its open files.
type DB struct {
	dir    string
	meta   Meta
	limits osv.Limits

	mu      sync.Mutex
	ecos    map[string]*ecoReader
	ratings map[string]map[string][]Rated // per ecosystem, loaded on first use
}

type ecoReader struct {
	f     *os.File
	index map[string][]span
}

// Open opens the database in dir. It fails with ErrNotFound when nothing
// was imported there and ErrCorrupt when meta.json cannot be read.
func Open(dir string) (*DB, error) {
	m, err := readMeta(dir)
	if err != nil {
		return nil, err
	}
	return &DB{dir: dir, meta: m, limits: osv.DefaultLimits, ecos: map[string]*ecoReader{}}, nil
}

// Dir returns the database directory.
func (db *DB) Dir() string { return db.dir }

// Meta returns what was imported, per ecosystem.
func (db *DB) Meta() Meta { return db.meta }

// Lookup returns the records affecting package name in the base ecosystem
// eco (withdrawn ones included; the caller decides). It returns no records
// and no error for an ecosystem that was never imported; check Meta.
func (db *DB) Lookup(eco, name string) ([]*osv.Entry, error) {
	r, err := db.reader(eco)
	if err != nil || r == nil {
		return nil, err
	}
	spans := r.index[osv.NormalizeName(eco, name)]
	out := make([]*osv.Entry, 0, len(spans))
	for _, sp := range spans {
		if sp.Len <= 0 || sp.Len > db.limits.MaxBytes+1 {
			return nil, fmt.Errorf("%w: %s index has a bad span for %q", ErrCorrupt, eco, name)
		}
		buf := make([]byte, sp.Len)
		if _, err := r.f.ReadAt(buf, sp.Off); err != nil {
			return nil, fmt.Errorf("%w: reading %s records for %q: %v", ErrCorrupt, eco, name, err)
		}
		e, err := osv.DecodeBytes(buf, fmt.Sprintf("%s record at offset %d", eco, sp.Off), db.limits)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		out = append(out, e)
	}
	return out, nil
}

func (db *DB) reader(eco string) (*ecoReader, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if r, ok := db.ecos[eco]; ok {
		return r, nil
	}
	m, ok := db.meta.Ecosystems[eco]
	if !ok {
		return nil, nil
	}
	idx, err := limits.ReadFile(filepath.Join(db.dir, ecoDir, filepath.Base(m.Index)), maxIndexBytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %s index: %w", ErrCorrupt, eco, err)
	}
	r := &ecoReader{}
	if err := json.Unmarshal(idx, &r.index); err != nil {
		return nil, fmt.Errorf("%w: %s index: %w", ErrCorrupt, eco, err)
	}
	r.f, err = os.Open(filepath.Join(db.dir, ecoDir, filepath.Base(m.File)))
	if err != nil {
		return nil, fmt.Errorf("%w: %s records: %v", ErrCorrupt, eco, err)
	}
	db.ecos[eco] = r
	return r, nil
}

// Close closes the record files opened by Lookup.
func (db *DB) Close() error {
	db.mu.Lock()
	defer db.mu.Unlock()
	var errs []error
	for k, r := range db.ecos {
		errs = append(errs, r.f.Close())
		delete(db.ecos, k)
	}
	return errors.Join(errs...)
}

func readMeta(dir string) (Meta, error) {
	b, err := limits.ReadFile(filepath.Join(dir, metaFile), maxMetaBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return Meta{}, fmt.Errorf("%w: %s has no %s", ErrNotFound, dir, metaFile)
	}
	if err != nil {
		return Meta{}, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	var m Meta
	if err := json.Unmarshal(b, &m); err != nil {
		return Meta{}, fmt.Errorf("%w: %s: %v", ErrCorrupt, filepath.Join(dir, metaFile), err)
	}
	if m.Format != FormatVersion {
		return Meta{}, fmt.Errorf("%w: %s has format %d, this build reads %d (re-run the import)", ErrCorrupt, filepath.Join(dir, metaFile), m.Format, FormatVersion)
	}
	if m.Ecosystems == nil {
		m.Ecosystems = map[string]EcosystemMeta{}
	}
	return m, nil
}

func writeMeta(dir string, m Meta) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".meta-*.json")
	if err != nil {
		return fmt.Errorf("osvdb: writing meta: %w", err)
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(dir, metaFile))
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("osvdb: writing meta: %w", err)
	}
	return nil
}
