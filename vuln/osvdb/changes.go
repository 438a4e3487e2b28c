package osvdb

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"github.com/hallmark-dev/hallmark/internal/limits"
)

// changesFile is the log of what each import changed, one JSON Change per
// line, appended to by every import.
const changesFile = "changes.jsonl"

// maxStatesBytes bounds a record-states file read back from disk.
const maxStatesBytes = 256 << 20

// recordState is what an import remembers of one record to tell, on the
// next import, whether it changed: a digest of its bytes and the package
// names it affects (normalized, in this ecosystem).
type recordState struct {
	Digest   string   `json:"d"`
	Packages []string `json:"p"`
}

func newRecordState(compact []byte, pkgs map[string]bool) recordState {
	sum := sha256.Sum256(compact)
	names := make([]string, 0, len(pkgs))
	for n := range pkgs {
		names = append(names, n)
	}
	sort.Strings(names)
	return recordState{Digest: hex.EncodeToString(sum[:16]), Packages: names}
}

// Change is what one import changed in one ecosystem.
type Change struct {
	ImportedAt time.Time `json:"importedAt"`
	Ecosystem  string    `json:"ecosystem"`
	// Full is set when there was nothing to compare with (the first
	// import of the ecosystem, or one from before record states were
	// kept): every record counts as changed.
	Full bool `json:"full,omitempty"`
	// Records is how many records were added, modified or removed.
	Records int `json:"records"`
	// Packages are the normalized names of the packages those records
	// affect (for a removed record, affected).
	Packages []string `json:"packages"`
}

// changeOf compares an ecosystem's new records with the states the
// previous import kept.
func (st *staging) changeOf(eco string, prev EcosystemMeta, cur map[string]recordState) Change {
	c := Change{ImportedAt: st.now, Ecosystem: eco, Packages: []string{}}
	old, err := readStates(st.dbDir, prev.States)
	if err != nil || prev.States == "" {
		if err != nil {
			st.cfg.logger.Warn("osvdb: previous record states unreadable; counting every record as changed", "ecosystem", eco, "err", err)
		}
		c.Full, c.Records = true, len(cur)
		return c
	}
	pkgs := map[string]bool{}
	for id, s := range cur {
		if o, ok := old[id]; ok && o.Digest == s.Digest {
			continue
		}
		c.Records++
		for _, p := range s.Packages {
			pkgs[p] = true
		}
	}
	for id, o := range old {
		if _, ok := cur[id]; !ok {
			c.Records++
			for _, p := range o.Packages {
				pkgs[p] = true
			}
		}
	}
	for p := range pkgs {
		c.Packages = append(c.Packages, p)
	}
	sort.Strings(c.Packages)
	return c
}

func readStates(dbDir, name string) (map[string]recordState, error) {
	if name == "" {
		return nil, nil
	}
	b, err := limits.ReadFile(filepath.Join(dbDir, ecoDir, filepath.Base(name)), maxStatesBytes)
	if err != nil {
		return nil, err
	}
	var m map[string]recordState
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return m, nil
}

// appendChanges appends cs to the change log and syncs it.
func appendChanges(dbDir string, cs []Change) error {
	if len(cs) == 0 {
		return nil
	}
	var buf bytes.Buffer
	for _, c := range cs {
		b, err := json.Marshal(c)
		if err != nil {
			return err
		}
		buf.Write(append(b, '\n'))
	}
	f, err := os.OpenFile(filepath.Join(dbDir, changesFile), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("osvdb: writing the change log: %w", err)
	}
	_, err = f.Write(buf.Bytes())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("osvdb: writing the change log: %w", err)
	}
	return nil
}

// Changes is what the imports after some time changed.
type Changes struct {
	// Imports counts the per-ecosystem import entries read.
	Imports int
	// Full lists the ecosystems imported with nothing to compare with:
	// every package of theirs must count as changed.
	Full []string
	// Packages maps a base ecosystem to the normalized names of the
	// packages whose records were added, modified or removed.
	Packages map[string][]string
}

// ChangesSince returns what the imports run after since changed, from the
// database's change log. A database without a log (imported before it was
// kept) reports every imported ecosystem as Full.
func (db *DB) ChangesSince(since time.Time) (Changes, error) {
	out := Changes{Packages: map[string][]string{}}
	b, err := limits.ReadFile(filepath.Join(db.dir, changesFile), maxIndexBytes)
	if errors.Is(err, fs.ErrNotExist) {
		for eco := range db.meta.Ecosystems {
			out.Full = append(out.Full, eco)
		}
		sort.Strings(out.Full)
		return out, nil
	}
	if err != nil {
		return out, fmt.Errorf("%w: %s: %v", ErrCorrupt, changesFile, err)
	}
	pkgs := map[string]map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, len(b)+1)
	for line := 1; sc.Scan(); line++ {
		var c Change
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			return out, fmt.Errorf("%w: %s line %d: %v", ErrCorrupt, changesFile, line, err)
		}
		if !c.ImportedAt.After(since) {
			continue
		}
		out.Imports++
		if c.Full {
			if !slices.Contains(out.Full, c.Ecosystem) {
				out.Full = append(out.Full, c.Ecosystem)
			}
			continue
		}
		if pkgs[c.Ecosystem] == nil {
			pkgs[c.Ecosystem] = map[string]bool{}
		}
		for _, p := range c.Packages {
			pkgs[c.Ecosystem][p] = true
		}
	}
	for eco, names := range pkgs {
		for n := range names {
			out.Packages[eco] = append(out.Packages[eco], n)
		}
		sort.Strings(out.Packages[eco])
	}
	sort.Strings(out.Full)
	return out, nil
}
