package osvdb

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/hallmark-dev/hallmark/internal/limits"
	"github.com/hallmark-dev/hallmark/vuln/osv"
)

// Import reads OSV records from `from` and stores them in the database
// directory dbDir (created if needed), stamped with time now. `from` is an
// http(s) URL of a mirror serving <ecosystem>/all.zip, a path to a .zip
// file, or a directory searched recursively for *.json records. It returns
// the database meta after the import.
func Import(ctx context.Context, dbDir, from string, now time.Time, opts ...Option) (Meta, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return Meta{}, err
	}
	if strings.HasPrefix(from, "http://") || strings.HasPrefix(from, "https://") {
		return importURL(ctx, dbDir, from, now, cfg)
	}
	fi, err := os.Stat(from)
	if err != nil {
		return Meta{}, &SourceError{Source: from, Err: fmt.Errorf("%w: %v", ErrBadSource, err)}
	}
	st, err := newStaging(dbDir, now, cfg)
	if err != nil {
		return Meta{}, err
	}
	defer st.abort()
	switch {
	case fi.IsDir():
		err = st.addDir(ctx, from)
	case strings.HasSuffix(strings.ToLower(from), ".zip"):
		err = st.addZipFile(ctx, from, from)
	default:
		err = &SourceError{Source: from, Err: fmt.Errorf("%w: want a directory, a .zip file or an http(s) URL", ErrBadSource)}
	}
	if err != nil {
		return Meta{}, err
	}
	return st.commit()
}

func importURL(ctx context.Context, dbDir, base string, now time.Time, cfg *config) (Meta, error) {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return Meta{}, &SourceError{Source: base, Err: fmt.Errorf("%w: bad URL", ErrBadSource)}
	}
	st, err := newStaging(dbDir, now, cfg)
	if err != nil {
		return Meta{}, err
	}
	defer st.abort()
	for _, eco := range cfg.ecosystems {
		zipURL := strings.TrimSuffix(base, "/") + "/" + url.PathEscape(eco) + "/all.zip"
		tmp, err := download(ctx, cfg, zipURL, st.dir)
		if err != nil {
			return Meta{}, err
		}
		st.expect(eco, zipURL)
		err = st.addZipFile(ctx, tmp, zipURL)
		os.Remove(tmp)
		if err != nil {
			return Meta{}, err
		}
	}
	return st.commit()
}

func download(ctx context.Context, cfg *config, zipURL, dir string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, zipURL, nil)
	if err != nil {
		return "", &SourceError{Source: zipURL, Err: err}
	}
	resp, err := cfg.client.Do(req)
	if err != nil {
		return "", &SourceError{Source: zipURL, Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", &SourceError{Source: zipURL, Err: fmt.Errorf("%w: HTTP status %s", ErrBadSource, resp.Status)}
	}
	f, err := os.CreateTemp(dir, "download-*.zip")
	if err != nil {
		return "", err
	}
	n, err := io.Copy(f, io.LimitReader(resp.Body, cfg.maxDownload+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > cfg.maxDownload {
		err = fmt.Errorf("%w: download larger than %d bytes", ErrLimit, cfg.maxDownload)
	}
	if err != nil {
		os.Remove(f.Name())
		return "", &SourceError{Source: zipURL, Err: err}
	}
	return f.Name(), nil
}

// staging writes one import into a temporary directory inside the database
// directory; commit moves it into place and rewrites meta.json last, so a
// reader sees either the old or the new data.
type staging struct {
	dbDir string
	dir   string
	now   time.Time
	cfg   *config
	files int
	total int64
	ecos  map[string]*ecoWriter
}

type span struct {
	Off int64 `json:"o"`
	Len int64 `json:"n"`
}

type ecoWriter struct {
	source         string
	f              *os.File
	w              *bufio.Writer
	hash           io.Writer
	sum            func() []byte
	off            int64
	index          map[string][]span
	ids            map[string]bool
	ratings        map[string][]Rated
	records        map[string]recordState // changes.go
	withdrawn      int
	newestModified time.Time
}

func newStaging(dbDir string, now time.Time, cfg *config) (*staging, error) {
	if err := os.MkdirAll(filepath.Join(dbDir, ecoDir), 0o755); err != nil {
		return nil, fmt.Errorf("osvdb: creating %s: %w", dbDir, err)
	}
	dir, err := os.MkdirTemp(dbDir, ".import-")
	if err != nil {
		return nil, fmt.Errorf("osvdb: creating staging directory in %s: %w", dbDir, err)
	}
	return &staging{dbDir: dbDir, dir: dir, now: now.UTC(), cfg: cfg, ecos: map[string]*ecoWriter{}}, nil
}

func (st *staging) abort() {
	for _, w := range st.ecos {
		if w.f != nil {
			w.f.Close()
		}
	}
	os.RemoveAll(st.dir)
}

// expect makes sure an ecosystem is written (possibly with zero records)
// even if the source holds none for it.
func (st *staging) expect(eco, source string) {
	if _, err := st.writer(eco, source); err != nil {
		st.cfg.logger.Warn("osvdb: cannot create ecosystem file", "ecosystem", eco, "err", err)
	}
}

func (st *staging) writer(eco, source string) (*ecoWriter, error) {
	if w, ok := st.ecos[eco]; ok {
		return w, nil
	}
	f, err := os.CreateTemp(st.dir, "eco-*.jsonl")
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	w := &ecoWriter{source: source, f: f, hash: h, sum: func() []byte { return h.Sum(nil) }, index: map[string][]span{}, ids: map[string]bool{}, ratings: map[string][]Rated{}, records: map[string]recordState{}}
	w.w = bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
	st.ecos[eco] = w
	return w, nil
}

func (st *staging) addDir(ctx context.Context, dir string) error {
	root, err := limits.OpenRoot(dir)
	if err != nil {
		return &SourceError{Source: dir, Err: fmt.Errorf("%w: %v", ErrBadSource, err)}
	}
	defer root.Close()
	return fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return &SourceError{Source: dir, Member: p, Err: err}
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		if !d.Type().IsRegular() || !strings.HasSuffix(p, ".json") {
			return nil
		}
		f, err := limits.OpenFileIn(root, p)
		if err != nil {
			return &SourceError{Source: dir, Member: p, Err: err}
		}
		defer f.Close()
		return st.add(f, dir, p)
	})
}

func (st *staging) addZipFile(ctx context.Context, file, source string) error {
	zr, err := zip.OpenReader(file)
	if err != nil {
		return &SourceError{Source: source, Err: fmt.Errorf("%w: %v", ErrBadSource, err)}
	}
	defer zr.Close()
	for _, zf := range zr.File {
		if err := ctx.Err(); err != nil {
			return err
		}
		if zf.FileInfo().IsDir() || !strings.HasSuffix(zf.Name, ".json") {
			continue
		}
		if zf.UncompressedSize64 > uint64(st.cfg.limits.MaxBytes) {
			return &SourceError{Source: source, Member: zf.Name, Err: fmt.Errorf("%w: member larger than %d bytes", ErrLimit, st.cfg.limits.MaxBytes)}
		}
		rc, err := zf.Open()
		if err != nil {
			return &SourceError{Source: source, Member: zf.Name, Err: err}
		}
		err = st.add(rc, source, zf.Name)
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func (st *staging) add(r io.Reader, source, member string) error {
	st.files++
	if st.files > st.cfg.maxFiles {
		return &SourceError{Source: source, Err: fmt.Errorf("%w: more than %d records", ErrLimit, st.cfg.maxFiles)}
	}
	data, err := limits.ReadAll(r, st.cfg.limits.MaxBytes, "OSV record")
	if err != nil {
		return &SourceError{Source: source, Member: member, Err: err}
	}
	st.total += int64(len(data))
	if st.total > st.cfg.maxTotal {
		return &SourceError{Source: source, Err: fmt.Errorf("%w: more than %d bytes of records", ErrLimit, st.cfg.maxTotal)}
	}
	e, err := osv.DecodeBytes(data, member, st.cfg.limits)
	if err != nil {
		return &SourceError{Source: source, Member: member, Err: err}
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		return &SourceError{Source: source, Member: member, Err: err}
	}
	compact.WriteByte('\n')
	names := map[string]map[string]bool{}
	for _, a := range e.Affected {
		eco := osv.BaseEcosystem(a.Package.Ecosystem)
		if eco == "" || a.Package.Name == "" {
			continue
		}
		if names[eco] == nil {
			names[eco] = map[string]bool{}
		}
		names[eco][osv.NormalizeName(eco, a.Package.Name)] = true
	}
	for eco, pkgs := range names {
		w, err := st.writer(eco, source)
		if err != nil {
			return &SourceError{Source: source, Member: member, Err: err}
		}
		if w.ids[e.ID] {
			return &SourceError{Source: source, Member: member, Err: fmt.Errorf("%w: %s in %s", ErrDuplicate, e.ID, eco)}
		}
		w.ids[e.ID] = true
		if _, err := w.w.Write(compact.Bytes()); err != nil {
			return &SourceError{Source: source, Member: member, Err: err}
		}
		sp := span{Off: w.off, Len: int64(compact.Len())}
		w.off += sp.Len
		for name := range pkgs {
			w.index[name] = append(w.index[name], sp)
		}
		w.records[e.ID] = newRecordState(compact.Bytes(), pkgs)
		if e.Withdrawn != nil {
			w.withdrawn++
		} else if r, ok := ratedOf(e); ok {
			for _, name := range append([]string{e.ID}, e.Aliases...) {
				w.ratings[name] = append(w.ratings[name], r)
			}
		}
		if e.Modified.After(w.newestModified) {
			w.newestModified = e.Modified.UTC()
		}
	}
	return nil
}

// commit moves the staged ecosystems into eco/, writes meta.json, and
// removes files of the ecosystems it replaced.
func (st *staging) commit() (Meta, error) {
	old, err := readMeta(st.dbDir)
	switch {
	case errors.Is(err, ErrNotFound):
		old = Meta{Format: FormatVersion, Ecosystems: map[string]EcosystemMeta{}}
	case errors.Is(err, ErrCorrupt):
		// An unreadable or old-format meta.json is replaced: the data it
		// described cannot be used anyway, and re-importing is the fix.
		st.cfg.logger.Warn("osvdb: replacing unreadable database meta; ecosystems not in this import are dropped", "dir", st.dbDir, "err", err)
		old = Meta{Format: FormatVersion, Ecosystems: map[string]EcosystemMeta{}}
	case err != nil:
		return Meta{}, err
	}
	next := Meta{Format: FormatVersion, Ecosystems: map[string]EcosystemMeta{}}
	for k, v := range old.Ecosystems {
		next.Ecosystems[k] = v
	}
	ecos := make([]string, 0, len(st.ecos))
	for eco := range st.ecos {
		ecos = append(ecos, eco)
	}
	sort.Strings(ecos)
	var replaced []string
	var changes []Change
	for _, eco := range ecos {
		w := st.ecos[eco]
		if err := w.w.Flush(); err != nil {
			return Meta{}, fmt.Errorf("osvdb: writing %s records: %w", eco, err)
		}
		if err := w.f.Sync(); err != nil {
			return Meta{}, fmt.Errorf("osvdb: writing %s records: %w", eco, err)
		}
		if err := w.f.Close(); err != nil {
			return Meta{}, fmt.Errorf("osvdb: writing %s records: %w", eco, err)
		}
		sum := hex.EncodeToString(w.sum())
		stem := fileStem(eco) + "-" + st.now.Format("20060102T150405Z") + "-" + sum[:12]
		m := EcosystemMeta{
			Source: w.source, ImportedAt: st.now, Records: len(w.ids), Withdrawn: w.withdrawn,
			NewestModified: w.newestModified, File: stem + ".jsonl", Index: stem + ".index.json", SHA256: sum,
			Ratings: stem + ".ratings.json", States: stem + ".records.json",
		}
		idx, err := json.Marshal(w.index)
		if err != nil {
			return Meta{}, err
		}
		if err := os.WriteFile(filepath.Join(st.dir, m.Index), idx, 0o644); err != nil {
			return Meta{}, fmt.Errorf("osvdb: writing %s index: %w", eco, err)
		}
		rat, err := json.Marshal(w.ratings)
		if err != nil {
			return Meta{}, err
		}
		if err := os.WriteFile(filepath.Join(st.dir, m.Ratings), rat, 0o644); err != nil {
			return Meta{}, fmt.Errorf("osvdb: writing %s ratings: %w", eco, err)
		}
		states, err := json.Marshal(w.records)
		if err != nil {
			return Meta{}, err
		}
		if err := os.WriteFile(filepath.Join(st.dir, m.States), states, 0o644); err != nil {
			return Meta{}, fmt.Errorf("osvdb: writing %s record states: %w", eco, err)
		}
		changes = append(changes, st.changeOf(eco, old.Ecosystems[eco], w.records))
		for _, mv := range [][2]string{{w.f.Name(), m.File}, {filepath.Join(st.dir, m.Index), m.Index}, {filepath.Join(st.dir, m.Ratings), m.Ratings}, {filepath.Join(st.dir, m.States), m.States}} {
			if err := os.Rename(mv[0], filepath.Join(st.dbDir, ecoDir, mv[1])); err != nil {
				return Meta{}, fmt.Errorf("osvdb: installing %s data: %w", eco, err)
			}
		}
		w.f = nil
		if prev, ok := old.Ecosystems[eco]; ok && prev.File != m.File {
			replaced = append(replaced, prev.File, prev.Index)
			if prev.Ratings != "" {
				replaced = append(replaced, prev.Ratings)
			}
			if prev.States != "" {
				replaced = append(replaced, prev.States)
			}
		}
		next.Ecosystems[eco] = m
		st.cfg.logger.Info("osvdb: imported", "ecosystem", eco, "records", m.Records, "source", m.Source)
	}
	// The change log is written before the meta that installs the data:
	// a crash between the two leaves an entry for an import that did not
	// land (an extra recheck), never an import without its entry (a
	// missed one).
	if err := appendChanges(st.dbDir, changes); err != nil {
		return Meta{}, err
	}
	if err := writeMeta(st.dbDir, next); err != nil {
		return Meta{}, err
	}
	for _, f := range replaced {
		os.Remove(filepath.Join(st.dbDir, ecoDir, path.Base(f)))
	}
	return next, nil
}

// fileStem maps an ecosystem name to a safe file name stem.
func fileStem(eco string) string {
	var b strings.Builder
	for _, r := range eco {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			b.WriteRune(r)
		default:
			fmt.Fprintf(&b, "%%%02x", r)
		}
	}
	return b.String()
}
