package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/store/groupcommit"
)

// Store is the PostgreSQL evidence store.
type Store struct {
	pool   *pgxpool.Pool
	now    func() time.Time
	writes *groupcommit.Committer[*write]
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
			return errors.New("postgres.WithClock: nil clock")
		}
		c.now = now
		return nil
	}
}

// migrationLockID is the advisory lock key that serializes migrations
// between processes sharing a database ("hallmark" in ASCII).
const migrationLockID = 0x68616c6c6d61726b

// migrations are applied in order and recorded in hallmark_schema.
var migrations = []string{
	`CREATE TABLE evidence (
		id TEXT PRIMARY KEY,
		predicate_type TEXT NOT NULL,
		stored_at TIMESTAMPTZ NOT NULL,
		bundle BYTEA NOT NULL
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
	// 4 (read path, ids.go): subjects_digest carries the evidence ID, so
	// that ListIDs finds a subject's records with an index-only scan; same
	// name and key, so every query that searched it still does.
	`DROP INDEX subjects_digest;
	CREATE INDEX subjects_digest ON subjects(alg, digest) INCLUDE (evidence_id);`,
	// 5 (ids.go): a subject row also holds its record's type and time, and
	// subjects_digest orders a subject's rows by time, so ListIDs of a
	// subject is one range of that index, already in the listing's order
	// and filtered by type inside it. Through the evidence table, a warm
	// admission miss's listing searched the primary key and read a table
	// page for each of the subject's records: 42 buffers for ten records,
	// about 0.2 ms of the database's CPU. Records never change type or
	// time, so the copies cannot go stale.
	`ALTER TABLE subjects ADD COLUMN predicate_type TEXT, ADD COLUMN stored_at TIMESTAMPTZ;
	UPDATE subjects s SET predicate_type = e.predicate_type, stored_at = e.stored_at FROM evidence e WHERE e.id = s.evidence_id;
	ALTER TABLE subjects ALTER COLUMN predicate_type SET NOT NULL, ALTER COLUMN stored_at SET NOT NULL;
	DROP INDEX subjects_digest;
	CREATE INDEX subjects_digest ON subjects(alg, digest, stored_at, evidence_id) INCLUDE (predicate_type);`,
	// 6: a record's row holds its subjects and signers as JSON (as List
	// returns them, and as the SQLite store keeps them), so reading a
	// record takes no index of subject or signer rows by record, and
	// subjects_evidence, signers_evidence and the two foreign keys go.
	// Keyed by a hash, the two indexes took every new record's entry into
	// a random leaf, and each foreign key locked the new evidence row
	// again: storing an admission miss's two records took 0.45 ms in
	// pgbench with them, 0.36 ms without. The store's statements keep the
	// rows consistent (each writes or deletes a record's rows together),
	// and Check verifies it. Deleting a record finds its subject rows
	// through subjects_digest and its signer rows through signers_key,
	// which now holds the record's ID. The backfill rewrites every row.
	`ALTER TABLE evidence ADD COLUMN subjects JSON, ADD COLUMN signers JSON;
	UPDATE evidence e SET
		subjects = (SELECT COALESCE(json_agg(json_build_array(s.name, s.alg, s.digest)), '[]') FROM subjects s WHERE s.evidence_id = e.id),
		signers = (SELECT COALESCE(json_agg(g.key_id), '[]') FROM signers g WHERE g.evidence_id = e.id);
	ALTER TABLE evidence ALTER COLUMN subjects SET NOT NULL, ALTER COLUMN signers SET NOT NULL;
	ALTER TABLE subjects DROP CONSTRAINT subjects_evidence_id_fkey;
	ALTER TABLE signers DROP CONSTRAINT signers_evidence_id_fkey;
	DROP INDEX subjects_evidence;
	DROP INDEX signers_evidence;
	DROP INDEX signers_key;
	CREATE INDEX signers_key ON signers(key_id, evidence_id);`,
}

// Open connects to the database named by dsn (a PostgreSQL URL or key=value
// string) and applies pending migrations.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	cfg := config{now: time.Now}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	pcfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres DSN: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("connect to postgres %s: %w", pcfg.ConnConfig.Host, err)
	}
	s := newStore(pool, cfg.now)
	if err := s.checkDurable(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if err := s.warm(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// newStore returns a store over pool, its schema not yet migrated.
func newStore(pool *pgxpool.Pool, now func() time.Time) *Store {
	s := &Store{pool: pool, now: now}
	s.writes = groupcommit.New(groupWindow, groupMax, s.commitGroup)
	return s
}

// warm opens every connection of the pool now and has each backend read
// the tables' catalog entries. Opened lazily, the first burst of requests
// a server answered waited for connection start-ups (a backend process and
// its catalog caches each) one after another: about a hundred
// milliseconds on the first second of admission reviews.
func (s *Store) warm(ctx context.Context) error {
	n := int(s.pool.Config().MaxConns)
	conns := make([]*pgxpool.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Release()
		}
	}()
	for range n {
		c, err := s.pool.Acquire(ctx)
		if err != nil {
			return fmt.Errorf("postgres: open connection: %w", err)
		}
		conns = append(conns, c)
		if _, err := c.Exec(ctx, `SELECT FROM evidence, subjects, signers LIMIT 0`); err != nil {
			return fmt.Errorf("postgres: read the schema: %w", err)
		}
	}
	return nil
}

// checkDurable refuses a database whose commits return before they are
// flushed: the store acknowledges evidence (and the gate its decisions)
// only once committed, and that promise must hold through a crash. The
// setting may come from the DSN, the role, the database or the server.
func (s *Store) checkDurable(ctx context.Context) error {
	var mode string
	if err := s.pool.QueryRow(ctx, `SHOW synchronous_commit`).Scan(&mode); err != nil {
		return fmt.Errorf("read synchronous_commit: %w", err)
	}
	if mode == "off" {
		return errors.New("postgres: synchronous_commit is off for this connection, so acknowledged evidence could be lost in a crash: remove it from the DSN, or ALTER ROLE/DATABASE ... SET synchronous_commit = on")
	}
	return nil
}

func (s *Store) migrate(ctx context.Context) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLockID)); err != nil {
			return fmt.Errorf("lock migrations: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS hallmark_schema (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`); err != nil {
			return fmt.Errorf("create schema table: %w", err)
		}
		var version int
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM hallmark_schema`).Scan(&version); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if version > len(migrations) {
			return fmt.Errorf("schema version %d is newer than this hallmark (%d): upgrade hallmark", version, len(migrations))
		}
		for i := version; i < len(migrations); i++ {
			if _, err := tx.Exec(ctx, migrations[i]); err != nil {
				return fmt.Errorf("migration %d: %w", i+1, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO hallmark_schema(version) VALUES ($1)`, i+1); err != nil {
				return fmt.Errorf("record migration %d: %w", i+1, err)
			}
		}
		return nil
	})
}

// checkSQL counts the rows that break the store's invariants: subject,
// signer and package rows of no record (or, for subjects, not of its type
// and time), and digests and keys a record's row lists without the row
// that finds it. No foreign key holds these since migration 6: the store's
// statements write and delete a record's rows together.
const checkSQL = `SELECT
	(SELECT count(*) FROM subjects s WHERE NOT EXISTS (SELECT 1 FROM evidence e
		WHERE e.id = s.evidence_id AND e.predicate_type = s.predicate_type AND e.stored_at = s.stored_at)) +
	(SELECT count(*) FROM signers g WHERE NOT EXISTS (SELECT 1 FROM evidence e WHERE e.id = g.evidence_id)) +
	(SELECT count(*) FROM packages p WHERE NOT EXISTS (SELECT 1 FROM evidence e WHERE e.id = p.evidence_id)) +
	(SELECT count(*) FROM evidence e, json_array_elements(e.subjects) AS j(r) WHERE NOT EXISTS (SELECT 1 FROM subjects s
		WHERE s.alg = j.r->>1 AND s.digest = j.r->>2 AND s.stored_at = e.stored_at AND s.evidence_id = e.id AND s.name = j.r->>0)) +
	(SELECT count(*) FROM evidence e, json_array_elements_text(e.signers) AS j(key_id) WHERE NOT EXISTS (SELECT 1 FROM signers g
		WHERE g.key_id = j.key_id AND g.evidence_id = e.id))`

// Check verifies that every subject, signer and package row belongs to a
// stored record and every record has its rows, and that the schema is at
// the expected version.
func (s *Store) Check(ctx context.Context) error {
	var broken int
	if err := s.pool.QueryRow(ctx, checkSQL).Scan(&broken); err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	if broken > 0 {
		return fmt.Errorf("%w: %d subject, signer or package rows without their record, or listed by a record without their row", store.ErrIntegrity, broken)
	}
	var version int
	if err := s.pool.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM hallmark_schema`).Scan(&version); err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	if version != len(migrations) {
		return fmt.Errorf("%w: schema version %d, want %d", store.ErrIntegrity, version, len(migrations))
	}
	return nil
}

// Close closes the connection pool.
func (s *Store) Close() error { s.pool.Close(); return nil }
