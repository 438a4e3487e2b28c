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

// Check verifies that every record's subjects and signers point at stored
// evidence and that the schema is at the expected version.
func (s *Store) Check(ctx context.Context) error {
	var orphans int
	if err := s.pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM subjects WHERE evidence_id NOT IN (SELECT id FROM evidence)) +
		(SELECT count(*) FROM signers WHERE evidence_id NOT IN (SELECT id FROM evidence)) +
		(SELECT count(*) FROM packages WHERE evidence_id NOT IN (SELECT id FROM evidence))`).Scan(&orphans); err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	if orphans > 0 {
		return fmt.Errorf("integrity check failed: %d orphaned rows", orphans)
	}
	var version int
	if err := s.pool.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM hallmark_schema`).Scan(&version); err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	if version != len(migrations) {
		return fmt.Errorf("integrity check failed: schema version %d, want %d", version, len(migrations))
	}
	return nil
}

// Close closes the connection pool.
func (s *Store) Close() error { s.pool.Close(); return nil }
