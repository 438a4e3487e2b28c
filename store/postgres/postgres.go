package postgres

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/store"
)

// Store is the PostgreSQL evidence store.
type Store struct {
	pool *pgxpool.Pool
	now  func() time.Time
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
	s := &Store{pool: pool, now: cfg.now}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
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

// Put stores v in one transaction.
func (s *Store) Put(ctx context.Context, v *attest.Verified) (store.Record, error) {
	recs, err := s.PutAll(ctx, []*attest.Verified{v})
	if err != nil {
		return store.Record{}, err
	}
	return recs[0], nil
}

// PutAll stores vs in one transaction: all of them or none.
func (s *Store) PutAll(ctx context.Context, vs []*attest.Verified) ([]store.Record, error) {
	now := s.now().UTC().Truncate(time.Microsecond)
	recs := make([]store.Record, len(vs))
	var existing []int
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		existing = existing[:0]
		for i, v := range vs {
			if v == nil {
				return errors.New("store: nil evidence")
			}
			recs[i] = store.Record{
				ID:            v.ID,
				PredicateType: v.PredicateType,
				Subjects:      v.Subjects(),
				Signers:       v.SignerIDs(),
				StoredAt:      now,
				Bundle:        v.Raw,
			}
			rec := recs[i]
			tag, err := tx.Exec(ctx, `INSERT INTO evidence(id, predicate_type, stored_at, bundle) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING`,
				rec.ID, rec.PredicateType, rec.StoredAt, rec.Bundle)
			if err != nil {
				return fmt.Errorf("store %s: %w", v.ID, err)
			}
			if tag.RowsAffected() == 0 {
				existing = append(existing, i)
				continue
			}
			batch := &pgx.Batch{}
			for _, sub := range rec.Subjects {
				for alg, d := range sub.Digest {
					batch.Queue(`INSERT INTO subjects(evidence_id, name, alg, digest) VALUES ($1, $2, $3, $4)`, rec.ID, sub.Name, alg, strings.ToLower(d))
				}
			}
			for _, k := range rec.Signers {
				batch.Queue(`INSERT INTO signers(evidence_id, key_id) VALUES ($1, $2)`, rec.ID, k)
			}
			if err := tx.SendBatch(ctx, batch).Close(); err != nil {
				return fmt.Errorf("store %s: %w", v.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, i := range existing {
		if recs[i], err = s.Get(ctx, vs[i].ID); err != nil {
			return nil, err
		}
	}
	return recs, nil
}

// Get returns the record with the given ID.
func (s *Store) Get(ctx context.Context, id string) (store.Record, error) {
	recs, err := s.query(ctx, `SELECT id, predicate_type, stored_at, bundle FROM evidence WHERE id = $1`, id)
	if err != nil {
		return store.Record{}, err
	}
	if len(recs) == 0 {
		return store.Record{}, fmt.Errorf("%w: %s", store.ErrNotFound, id)
	}
	return recs[0], nil
}

// List returns the records matching q, oldest first.
func (s *Store) List(ctx context.Context, q store.Query) ([]store.Record, error) {
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	if q.Subject != "" {
		alg, hexValue, err := store.ParseSubject(q.Subject)
		if err != nil {
			return nil, err
		}
		where = append(where, `id IN (SELECT evidence_id FROM subjects WHERE alg = `+arg(alg)+` AND digest = `+arg(hexValue)+`)`)
	}
	if q.PredicateType != "" {
		where = append(where, `predicate_type = `+arg(q.PredicateType))
	}
	if len(q.ExcludePredicateTypes) > 0 {
		where = append(where, `predicate_type <> ALL(`+arg(q.ExcludePredicateTypes)+`)`)
	}
	if q.Signer != "" {
		where = append(where, `id IN (SELECT evidence_id FROM signers WHERE key_id = `+arg(q.Signer)+`)`)
	}
	if !q.Since.IsZero() {
		where = append(where, `stored_at >= `+arg(q.Since.UTC()))
	}
	if !q.Until.IsZero() {
		where = append(where, `stored_at < `+arg(q.Until.UTC()))
	}
	if q.Limit < 0 {
		return nil, fmt.Errorf("%w: negative limit %d", store.ErrBadQuery, q.Limit)
	}
	sqlText := `SELECT id, predicate_type, stored_at, bundle FROM evidence`
	if len(where) > 0 {
		sqlText += ` WHERE ` + strings.Join(where, ` AND `)
	}
	sqlText += ` ORDER BY stored_at, id`
	if q.Limit > 0 {
		sqlText += ` LIMIT ` + arg(q.Limit)
	}
	return s.query(ctx, sqlText, args...)
}

func (s *Store) query(ctx context.Context, sqlText string, args ...any) ([]store.Record, error) {
	rows, err := s.pool.Query(ctx, sqlText, args...)
	if err != nil {
		return nil, fmt.Errorf("query evidence: %w", err)
	}
	recs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Record, error) {
		var rec store.Record
		err := r.Scan(&rec.ID, &rec.PredicateType, &rec.StoredAt, &rec.Bundle)
		rec.StoredAt = rec.StoredAt.UTC()
		return rec, err
	})
	if err != nil {
		return nil, fmt.Errorf("read evidence: %w", err)
	}
	if len(recs) == 0 {
		return nil, nil
	}
	ids := make([]string, len(recs))
	byID := make(map[string]*store.Record, len(recs))
	for i := range recs {
		ids[i] = recs[i].ID
		byID[recs[i].ID] = &recs[i]
	}
	subs := map[string]map[string]map[string]string{}
	rows, err = s.pool.Query(ctx, `SELECT evidence_id, name, alg, digest FROM subjects WHERE evidence_id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("read subjects: %w", err)
	}
	var eid, name, alg, d string
	if _, err := pgx.ForEachRow(rows, []any{&eid, &name, &alg, &d}, func() error {
		if subs[eid] == nil {
			subs[eid] = map[string]map[string]string{}
		}
		if subs[eid][name] == nil {
			subs[eid][name] = map[string]string{}
		}
		subs[eid][name][alg] = d
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read subjects: %w", err)
	}
	for id, byName := range subs {
		r := byID[id]
		for n, dg := range byName {
			r.Subjects = append(r.Subjects, attest.Subject{Name: n, Digest: dg})
		}
		sort.Slice(r.Subjects, func(i, j int) bool { return r.Subjects[i].Name < r.Subjects[j].Name })
	}
	rows, err = s.pool.Query(ctx, `SELECT evidence_id, key_id FROM signers WHERE evidence_id = ANY($1) ORDER BY key_id`, ids)
	if err != nil {
		return nil, fmt.Errorf("read signers: %w", err)
	}
	var kid string
	if _, err := pgx.ForEachRow(rows, []any{&eid, &kid}, func() error {
		byID[eid].Signers = append(byID[eid].Signers, kid)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read signers: %w", err)
	}
	return recs, nil
}

// Check verifies that every record's subjects and signers point at stored
// evidence and that the schema is at the expected version.
func (s *Store) Check(ctx context.Context) error {
	var orphans int
	if err := s.pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM subjects WHERE evidence_id NOT IN (SELECT id FROM evidence)) +
		(SELECT count(*) FROM signers WHERE evidence_id NOT IN (SELECT id FROM evidence))`).Scan(&orphans); err != nil {
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
