package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/store/groupcommit"
)

// Store is the SQLite evidence store.
type Store struct {
	db     *sql.DB
	now    func() time.Time
	writes *groupcommit.Committer[*write]
	stmts  stmtCache
	ckpt   *checkpointer
	// writer is the connection every group commit runs on (under the
	// committer's lock). A connection drops its page cache when
	// it finds that another connection committed; kept for the writes,
	// the pages their B-tree inserts walk stay cached from one commit to
	// the next instead of being read again on whichever pooled
	// connection the group got. Readers find their caches emptied by
	// every commit either way.
	writer *sql.Conn
}

var (
	_ store.Store   = (*Store)(nil)
	_ store.Batcher = (*Store)(nil)
	_ store.Checker = (*Store)(nil)
)

// Option configures Open.
type Option func(*config) error

type config struct{ now func() time.Time }

// WithClock sets the clock used for StoredAt (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return errors.New("sqlite.WithClock: nil clock")
		}
		c.now = now
		return nil
	}
}

// Open opens (creating if needed) the store in the file at path and applies
// pending schema migrations.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	cfg := config{now: time.Now}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create store directory for %s: %w", path, err)
	}
	// mmap_size 0: pages are read with system calls, not from a mapping
	// of the file. A connection that finds the database changed by
	// another connection's commit drops its page cache and unmaps its
	// whole window, so in a server that writes on every admission miss,
	// each read and write re-mapped the file and faulted every page it
	// touched in again: in `hallmark serve` at 500 misses/s, 12% more CPU
	// per miss and a p99 ten times that of reading with system calls
	// (docs/server.md).
	//
	// cache_size 512 KiB (the default is 2 MB): in modernc.org/sqlite the
	// connections' page caches share one budget, the sum of their sizes,
	// and one least-recently-used list. The write connection, whose cache
	// no other connection's commit empties, came to hold nearly all of it
	// (3,545 pages at 500 admission misses/s). A B-tree split that
	// renumbers pages passes one through a page number past 1 GiB, and the
	// commit after it then walks that connection's whole cache to drop
	// the pages past the end of the file: 3.6% of a miss's server CPU.
	// With 512 KiB it holds about 970 pages and the walk costs a third as
	// much. A reader's cache lasts until the next commit anyway, and
	// bench/recheck/run.sh (3,000 artifacts) took as long as before.
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()), "wal_autocheckpoint(0)", "foreign_keys(1)", "temp_store(MEMORY)", "mmap_size(0)", "cache_size(-512)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	// Keep the connections open: database/sql closes all but two idle
	// connections by default, and a new SQLite connection costs a file
	// open, the pragmas and a schema parse on the request that needs it.
	// Writes queue in the committer, so a handful of connections serve
	// the concurrent readers of a busy server.
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	s := &Store{db: db, now: cfg.now, stmts: stmtCache{db: db}}
	s.writes = groupcommit.New(groupWindow, groupMax, s.commitGroup)
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	if err := s.warm(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	if s.writer, err = db.Conn(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store %s: open the write connection: %w", path, err)
	}
	s.ckpt = startCheckpointer(db, s.writes)
	return s, nil
}

// warm opens every connection of the pool now. A new connection sets its
// pragmas (switching to WAL takes a lock) and reads the schema; opened
// lazily by the first burst of requests, several did that at once and
// retried in SQLite's busy handler, stalling the first reviews a server
// answered by a third of a second.
func (s *Store) warm(ctx context.Context) error {
	conns := make([]*sql.Conn, 0, maxConns)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range maxConns {
		c, err := s.db.Conn(ctx)
		if err != nil {
			return fmt.Errorf("open connection: %w", err)
		}
		conns = append(conns, c)
		var n int
		if err := c.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema`).Scan(&n); err != nil {
			return fmt.Errorf("read schema: %w", err)
		}
	}
	return nil
}

// busyTimeout is how long a statement waits for a lock another connection
// or process holds before it fails with SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// maxConns bounds the open connections (readers run in parallel under
// WAL; writes go one transaction at a time through the committer).
const maxConns = 8

// migrations are applied in order; PRAGMA user_version records how many ran.
var migrations = []string{
	`CREATE TABLE evidence (
		id TEXT PRIMARY KEY,
		predicate_type TEXT NOT NULL,
		stored_at INTEGER NOT NULL,
		bundle BLOB NOT NULL
	);
	CREATE INDEX evidence_type_time ON evidence(predicate_type, stored_at);
	CREATE INDEX evidence_time ON evidence(stored_at);
	CREATE TABLE subjects (
		evidence_id TEXT NOT NULL REFERENCES evidence(id),
		name TEXT NOT NULL,
		alg TEXT NOT NULL,
		digest TEXT NOT NULL
	);
	CREATE INDEX subjects_digest ON subjects(alg, digest);
	CREATE INDEX subjects_evidence ON subjects(evidence_id);
	CREATE TABLE signers (
		evidence_id TEXT NOT NULL REFERENCES evidence(id),
		key_id TEXT NOT NULL
	);
	CREATE INDEX signers_key ON signers(key_id);
	CREATE INDEX signers_evidence ON signers(evidence_id);`,
	`CREATE TABLE packages (
		evidence_id TEXT NOT NULL REFERENCES evidence(id),
		ecosystem TEXT NOT NULL,
		name TEXT NOT NULL
	);
	CREATE INDEX packages_name ON packages(ecosystem, name, evidence_id);
	CREATE INDEX packages_evidence ON packages(evidence_id);
	CREATE TABLE packages_indexed (evidence_id TEXT PRIMARY KEY REFERENCES evidence(id));`,
	// 3: the IDs of each predicate type in order, so that Unindexed reads
	// the SBOMs' IDs from the index alone, in the order it returns them,
	// instead of a row of every SBOM (bench/store/scale.sh).
	`CREATE INDEX evidence_type_id ON evidence(predicate_type, id);`,
	// 4: evidence_type_time also holds the ID, so Unindexed reads the IDs
	// from it and evidence_type_id goes. Ordered by ID (a hash), that index
	// took every record's entry into a random leaf page, which a commit
	// writes to the WAL and a checkpoint again: 3.3 of the 24.7 pages an
	// admission miss's VSA and decision wrote (TestPagesPerWrite). Ordered
	// by time within a type, the new entry joins the last page of its
	// type. Same plans: Unindexed walks the types' entries, index only,
	// and sorts the IDs; a page of a type's records by time gets the ID
	// order of equal times from the index too.
	`DROP INDEX evidence_type_id;
	DROP INDEX evidence_type_time;
	CREATE INDEX evidence_type_time ON evidence(predicate_type, stored_at, id);`,
	// 5 (read path, ids.go): subjects_digest carries the evidence ID, so
	// that ListIDs finds a subject's records from the index alone, without
	// a subjects row each; same name and prefix, so every query that
	// searched it still does, and a write updates no more indexes.
	`DROP INDEX subjects_digest;
	CREATE INDEX subjects_digest ON subjects(alg, digest, evidence_id);`,
	// 6 (ids.go): a subject row also holds its record's type and time, and
	// subjects_digest orders a subject's rows by time, so ListIDs of a
	// subject is one range of that index, already in the listing's order.
	// Through the evidence table it read an index leaf and a table leaf
	// per record; a server's read connections find their page cache
	// emptied by every commit of another connection, so each of those
	// pages was fetched and parsed again on every admission miss.
	// Records never change type or time, so the copies cannot go stale.
	`ALTER TABLE subjects ADD COLUMN predicate_type TEXT NOT NULL DEFAULT '';
	ALTER TABLE subjects ADD COLUMN stored_at INTEGER NOT NULL DEFAULT 0;
	UPDATE subjects SET (predicate_type, stored_at) = (SELECT e.predicate_type, e.stored_at FROM evidence e WHERE e.id = subjects.evidence_id);
	DROP INDEX subjects_digest;
	CREATE INDEX subjects_digest ON subjects(alg, digest, stored_at, evidence_id, predicate_type);`,
	// 7: evidence_time also holds the ID, so a listing of all records in
	// their order (stored_at, then ID) reads the index from its first
	// entry. On (stored_at) alone SQLite read and sorted the whole table
	// for it: List with only a limit, which /healthz runs, took 0.22 s at
	// 100,000 records, and 32 concurrent health checks ran past their 2 s
	// timeout (503).
	`DROP INDEX evidence_time;
	CREATE INDEX evidence_time ON evidence(stored_at, id);`,
	// 8: a record's row holds its subjects and signers as JSON (as List
	// returns them), so reading a record takes no index of subjects or
	// signers by record, and subjects_evidence and signers_evidence go.
	// Keyed by a hash, each took every new record's entry into a random
	// leaf: of the seven random leaves an admission miss's VSA and
	// decision wrote (into the WAL, then again at the checkpoint), four
	// were theirs. Deleting a record finds its subject rows through
	// subjects_digest and its signer rows through signers_key, which now
	// holds the record's ID. The backfill rewrites every row once.
	`ALTER TABLE evidence ADD COLUMN subjects TEXT NOT NULL DEFAULT '[]';
	ALTER TABLE evidence ADD COLUMN signers TEXT NOT NULL DEFAULT '[]';
	UPDATE evidence SET
		subjects = (SELECT json_group_array(json_array(s.name, s.alg, s.digest)) FROM subjects s WHERE s.evidence_id = evidence.id),
		signers = (SELECT json_group_array(g.key_id) FROM signers g WHERE g.evidence_id = evidence.id);
	DROP INDEX subjects_evidence;
	DROP INDEX signers_evidence;
	DROP INDEX signers_key;
	CREATE INDEX signers_key ON signers(key_id, evidence_id);`,
	// 9: subject and signer rows live in tables keyed by how they are
	// searched (WITHOUT ROWID), with no foreign key to evidence. Their
	// foreign keys made deleting a record scan both tables whole, the
	// indexes of them by record being gone (migration 8): 10 ms per
	// record at 300,000 rows, so a prune of a large store ran for hours.
	// A row is now written once, into its key's leaf, where it was
	// written to a table leaf and to an index leaf; and a signer's rows
	// are ordered by time, so a new one joins the key's last leaf instead
	// of a random one. An admission miss's decision writes two pages
	// fewer. The record's row lists its subjects and signers (migration
	// 8), and Check compares the two.
	`CREATE TABLE subjects_new (
		alg TEXT NOT NULL,
		digest TEXT NOT NULL,
		stored_at INTEGER NOT NULL,
		evidence_id TEXT NOT NULL,
		name TEXT NOT NULL,
		predicate_type TEXT NOT NULL,
		PRIMARY KEY (alg, digest, stored_at, evidence_id, name)
	) WITHOUT ROWID;
	INSERT OR IGNORE INTO subjects_new SELECT alg, digest, stored_at, evidence_id, name, predicate_type FROM subjects ORDER BY 1, 2, 3, 4, 5;
	DROP TABLE subjects;
	ALTER TABLE subjects_new RENAME TO subjects;
	CREATE TABLE signers_new (
		key_id TEXT NOT NULL,
		stored_at INTEGER NOT NULL,
		evidence_id TEXT NOT NULL,
		PRIMARY KEY (key_id, stored_at, evidence_id)
	) WITHOUT ROWID;
	INSERT OR IGNORE INTO signers_new SELECT g.key_id, e.stored_at, g.evidence_id FROM signers g JOIN evidence e ON e.id = g.evidence_id ORDER BY 1, 2, 3;
	DROP TABLE signers;
	ALTER TABLE signers_new RENAME TO signers;`,
}

func (s *Store) migrate(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin migration: %w", err)
	}
	defer tx.Rollback()
	var version int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this hallmark (%d): upgrade hallmark", version, len(migrations))
	}
	for i := version; i < len(migrations); i++ {
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(migrations))); err != nil {
		return fmt.Errorf("record schema version: %w", err)
	}
	return tx.Commit()
}

// Put stores v in one transaction.
func (s *Store) Put(ctx context.Context, v *attest.Verified) (store.Record, error) {
	recs, err := s.PutAll(ctx, []*attest.Verified{v})
	if err != nil {
		return store.Record{}, err
	}
	return recs[0], nil
}

// PutAll stores vs in one transaction: all of them or none. Concurrent
// calls are committed together (see commit.go), each still atomic.
func (s *Store) PutAll(ctx context.Context, vs []*attest.Verified) ([]store.Record, error) {
	for _, v := range vs {
		if v == nil {
			return nil, errors.New("store: nil evidence")
		}
	}
	w := &write{ctx: ctx, vs: vs}
	s.writes.Do(w)
	if w.err != nil {
		return nil, w.err
	}
	for _, i := range w.existing {
		rec, err := s.Get(ctx, vs[i].ID)
		if err != nil {
			return nil, err
		}
		w.recs[i] = rec
	}
	return w.recs, nil
}

// putTx inserts one piece of evidence in tx; inserted is false when a
// bundle with that ID was already stored.
func putTx(ctx context.Context, tx *txStmts, v *attest.Verified, now time.Time, rec *store.Record) (inserted bool, err error) {
	*rec = store.NewRecord(v, now)
	// Subject rows and the row's JSON list the same digests in the same
	// order, as List reads them.
	subjects := store.SubjectRows(rec.Subjects)
	subjectsJSON, signersJSON, err := store.EncodeLists(subjects, rec.Signers)
	if err != nil {
		return false, fmt.Errorf("store %s: %w", v.ID, err)
	}
	res, err := tx.exec(ctx, `INSERT INTO evidence(id, predicate_type, stored_at, bundle, subjects, signers) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING`,
		rec.ID, rec.PredicateType, rec.StoredAt.UnixNano(), rec.Bundle, subjectsJSON, signersJSON)
	if err != nil {
		return false, fmt.Errorf("store %s: %w", v.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	for _, sub := range subjects {
		if _, err := tx.exec(ctx, `INSERT INTO subjects(alg, digest, stored_at, evidence_id, name, predicate_type) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			sub[1], sub[2], rec.StoredAt.UnixNano(), rec.ID, sub[0], rec.PredicateType); err != nil {
			return false, fmt.Errorf("store %s subject %s: %w", v.ID, sub[0], err)
		}
	}
	for _, k := range rec.Signers {
		if _, err := tx.exec(ctx, `INSERT INTO signers(key_id, stored_at, evidence_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, k, rec.StoredAt.UnixNano(), rec.ID); err != nil {
			return false, fmt.Errorf("store %s signer: %w", v.ID, err)
		}
	}
	return true, nil
}

// Get returns the record with the given ID.
func (s *Store) Get(ctx context.Context, id string) (store.Record, error) {
	recs, err := s.query(ctx, recordColumns+` WHERE e.id = ?`, id)
	if err != nil {
		return store.Record{}, err
	}
	if len(recs) == 0 {
		return store.Record{}, fmt.Errorf("%w: %s", store.ErrNotFound, id)
	}
	return recs[0], nil
}

// IDsWithPrefix returns up to limit IDs starting with prefix, in order. IDs
// are lower-case "sha256:<hex>", so the range [prefix, prefix+"~") is
// exactly the IDs with that prefix, and it is read from the primary key.
func (s *Store) IDsWithPrefix(ctx context.Context, prefix string, limit int) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM evidence WHERE id >= ? AND id < ? ORDER BY id LIMIT ?`, prefix, prefix+"~", limit)
	if err != nil {
		return nil, fmt.Errorf("ids with prefix %s: %w", prefix, err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("ids with prefix %s: %w", prefix, err)
		}
		if strings.HasPrefix(id, prefix) {
			ids = append(ids, id)
		}
	}
	return ids, rows.Err()
}

var _ store.Prefixer = (*Store)(nil)

// List returns the records matching q, oldest first (newest first with
// q.Newest).
func (s *Store) List(ctx context.Context, q store.Query) ([]store.Record, error) {
	sqlText, args, err := listSQL(q)
	if err != nil {
		return nil, err
	}
	return s.query(ctx, sqlText, args...)
}

// listSQL is the statement List runs for q, and its arguments.
func listSQL(q store.Query) (string, []any, error) { return selectSQL(recordColumns, q) }

// selectSQL is the statement selecting columns (a SELECT of evidence e)
// of the records matching q, in q's order, and its arguments.
func selectSQL(columns string, q store.Query) (string, []any, error) {
	var where []string
	var args []any
	if !q.Subject.IsZero() {
		where = append(where, `e.id IN (SELECT evidence_id FROM subjects WHERE alg = ? AND digest = ?)`)
		args = append(args, q.Subject.Algorithm(), q.Subject.Hex())
	}
	if q.PredicateType != "" {
		// With a subject, the subject's few records are read through
		// the subjects table's key and filtered by type. Without the unary plus,
		// SQLite walks the evidence_type_time index instead: every record
		// of the type (every decision, for the newest decisions about an
		// artifact), which grows with the store.
		if !q.Subject.IsZero() {
			where = append(where, `+e.predicate_type = ?`)
		} else {
			where = append(where, `e.predicate_type = ?`)
		}
		args = append(args, q.PredicateType)
	}
	if n := len(q.ExcludePredicateTypes); n > 0 {
		where = append(where, `e.predicate_type NOT IN (`+strings.TrimSuffix(strings.Repeat("?,", n), ",")+`)`)
		for _, t := range q.ExcludePredicateTypes {
			args = append(args, t)
		}
	}
	if q.Signer != "" {
		where = append(where, `e.id IN (SELECT evidence_id FROM signers WHERE key_id = ?)`)
		args = append(args, q.Signer)
	}
	if !q.Since.IsZero() {
		where = append(where, `e.stored_at >= ?`)
		args = append(args, q.Since.UnixNano())
	}
	if !q.Until.IsZero() {
		where = append(where, `e.stored_at < ?`)
		args = append(args, q.Until.UnixNano())
	}
	if q.Limit < 0 {
		return "", nil, fmt.Errorf("%w: negative limit %d", store.ErrBadQuery, q.Limit)
	}
	sqlText := columns
	if len(where) > 0 {
		sqlText += ` WHERE ` + strings.Join(where, ` AND `)
	}
	if q.Newest {
		sqlText += ` ORDER BY e.stored_at DESC, e.id DESC`
	} else {
		sqlText += ` ORDER BY e.stored_at, e.id`
	}
	if q.Limit > 0 {
		sqlText += fmt.Sprintf(` LIMIT %d`, q.Limit)
	}
	return sqlText, args, nil
}

// recordColumns selects a record with its subjects and signers, which its
// row holds as JSON (migration 8).
const recordColumns = `SELECT e.id, e.predicate_type, e.stored_at, e.bundle, e.subjects, e.signers FROM evidence e`

func (s *Store) query(ctx context.Context, sqlText string, args ...any) ([]store.Record, error) {
	rows, err := s.stmts.query(ctx, sqlText, args...)
	if err != nil {
		return nil, fmt.Errorf("query evidence: %w", err)
	}
	defer rows.Close()
	var recs []store.Record
	for rows.Next() {
		var r store.Record
		var ns int64
		var subjects, signers []byte
		if err := rows.Scan(&r.ID, &r.PredicateType, &ns, &r.Bundle, &subjects, &signers); err != nil {
			return nil, fmt.Errorf("read evidence: %w", err)
		}
		r.StoredAt = time.Unix(0, ns).UTC()
		if err := store.DecodeLists(&r, subjects, signers); err != nil {
			return nil, err
		}
		recs = append(recs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read evidence: %w", err)
	}
	return recs, nil
}

// Check runs SQLite's integrity check.
func (s *Store) Check(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return fmt.Errorf("integrity check: %w", err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", store.ErrIntegrity, strings.Join(problems, "; "))
	}
	return rows.Err()
}

// Close closes the database.
func (s *Store) Close() error {
	s.ckpt.close()
	s.stmts.close()
	s.writer.Close() // a second Close reports sql.ErrConnDone: nothing to do
	return s.db.Close()
}
