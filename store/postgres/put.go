package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/store"
)

// putSQL stores a batch in one statement, so one round trip and one commit.
// A statement is its own transaction: the rows of every bundle are stored,
// or none are. Evidence rows whose ID is already stored are skipped (ON
// CONFLICT waits for a concurrent writer of the same ID to finish first),
// and only the bundles actually inserted get subject and signer rows. It
// returns the IDs it inserted.
//
// Parameters: $1 ids, $2 predicate types, $3 the shared stored_at,
// $4 bundles, $5 and $6 each record's subjects and signers as JSON
// (store.EncodeLists); $7-$10 subject rows (evidence id, name, alg,
// digest); $11-$12 signer rows (evidence id, key id). The text never
// changes, so pgx prepares it once per connection whatever the batch size.
const putSQL = `WITH ins AS (
	INSERT INTO evidence(id, predicate_type, stored_at, bundle, subjects, signers)
	SELECT u.id, u.predicate_type, $3::timestamptz, u.bundle, u.subjects::json, u.signers::json
	FROM unnest($1::text[], $2::text[], $4::bytea[], $5::text[], $6::text[]) AS u(id, predicate_type, bundle, subjects, signers)
	ON CONFLICT (id) DO NOTHING
	RETURNING id, predicate_type
), subs AS (
	INSERT INTO subjects(evidence_id, name, alg, digest, predicate_type, stored_at)
	SELECT u.evidence_id, u.name, u.alg, u.digest, ins.predicate_type, $3::timestamptz
	FROM unnest($7::text[], $8::text[], $9::text[], $10::text[]) AS u(evidence_id, name, alg, digest)
	JOIN ins ON ins.id = u.evidence_id
), sigs AS (
	INSERT INTO signers(evidence_id, key_id)
	SELECT u.evidence_id, u.key_id
	FROM unnest($11::text[], $12::text[]) AS u(evidence_id, key_id)
	JOIN ins ON ins.id = u.evidence_id
)
SELECT id FROM ins`

// existingSQL reads the stored records of a batch's already-stored IDs.
const existingSQL = recordColumns + ` WHERE id = ANY($1)`

// Put stores v in one transaction.
func (s *Store) Put(ctx context.Context, v *attest.Verified) (store.Record, error) {
	recs, err := s.PutAll(ctx, []*attest.Verified{v})
	if err != nil {
		return store.Record{}, err
	}
	return recs[0], nil
}

// batch holds the columns of putSQL's arrays.
type batch struct {
	ids, types         []string
	bundles            [][]byte
	subjectsJSON       []string
	signersJSON        []string
	subIDs, names      []string
	algs, digests      []string
	signerIDs, signers []string
}

// Group commit bounds: how long a group waits for company, and how many
// writes it holds at most. A statement's fixed cost (a round trip, the
// executor, a commit and its WAL flush) is most of an admission miss's two
// records: measured with pgbench, one miss alone took 0.46-0.53 ms, two
// merged 0.64-0.69 ms, four 0.95-1.03 ms. Writes queued behind one
// connection also leave the pool's other connections to reads: in the
// serve bench's warm phase, reads that waited for a connection fell from
// 10-18% to about 1%. The window was 0.5 ms (a statement takes about
// 0.3 ms) until session 16 measured what each commit costs the server
// process itself, the round trip's system calls and the thread switches
// while it waits: with 6 ms, a warm admission miss took 0.50 and 0.54 ms
// of server CPU against 0.68 and 0.66 (bench/serve/ab.sh postgres, same
// store, alternating), for a p99 of 9.5-9.8 ms against 3.5-6.4 ms, inside
// the 10x-the-baseline bound of docs/server.md. The SQLite store's window
// is the same, for the same reason.
const (
	groupWindow = 6 * time.Millisecond
	groupMax    = 64
)

// write is one caller's PutAll.
type write struct {
	ctx  context.Context
	vs   []*attest.Verified
	recs []store.Record
	err  error
}

// PutAll stores vs in one transaction: all of them or none. Concurrent
// calls are committed together, in one statement (one round trip, one
// durable commit), each still all or nothing (see commitGroup). Bundles
// already stored are answered with their stored records.
func (s *Store) PutAll(ctx context.Context, vs []*attest.Verified) ([]store.Record, error) {
	for i, v := range vs {
		if v == nil {
			return nil, fmt.Errorf("store: nil evidence at position %d of %d", i, len(vs))
		}
	}
	if len(vs) == 0 {
		return []store.Record{}, nil
	}
	w := &write{ctx: ctx, vs: vs}
	s.writes.Do(w)
	if w.err != nil {
		return nil, w.err
	}
	return w.recs, nil
}

// commitGroup stores a group's writes in one statement. If that fails it
// stores each write alone, so that a write fails only for its own reason.
func (s *Store) commitGroup(group []*write) {
	var live []*write
	for _, w := range group {
		if err := w.ctx.Err(); err != nil {
			w.err = fmt.Errorf("store: %w", err)
			continue
		}
		live = append(live, w)
	}
	if len(live) == 1 {
		live[0].err = s.putWrites(live[0].ctx, live)
		return
	}
	if len(live) == 0 {
		return
	}
	ctx, cancel := groupContext(live)
	err := s.putWrites(ctx, live)
	cancel()
	if err == nil {
		return
	}
	for _, w := range live {
		w.err = s.putWrites(w.ctx, []*write{w})
	}
}

// groupContext is the context of a statement serving several callers: one
// caller giving up must not abort the others' writes, so it ends only at
// the latest of their deadlines (never, if one of them has none).
func groupContext(ws []*write) (context.Context, context.CancelFunc) {
	ctx := context.WithoutCancel(ws[0].ctx)
	var latest time.Time
	for _, w := range ws {
		d, ok := w.ctx.Deadline()
		if !ok {
			return ctx, func() {}
		}
		if d.After(latest) {
			latest = d
		}
	}
	return context.WithDeadline(ctx, latest)
}

// putWrites stores the evidence of ws in one statement and sets each
// write's records; on an error it sets none.
func (s *Store) putWrites(ctx context.Context, ws []*write) error {
	now := s.now().UTC().Truncate(time.Microsecond)
	recs := make([][]store.Record, len(ws))
	first := map[string]*store.Record{} // ID -> its first record in ws
	for j, w := range ws {
		recs[j] = make([]store.Record, len(w.vs))
		for i, v := range w.vs {
			recs[j][i] = store.NewRecord(v, now)
			if _, dup := first[v.ID]; !dup {
				first[v.ID] = &recs[j][i]
			}
		}
	}
	// Rows go in ID order, so two statements sharing IDs lock them in the
	// same order and cannot deadlock on each other.
	ids := make([]string, 0, len(first))
	for id := range first {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var b batch
	for _, id := range ids {
		rec := first[id]
		rows := store.SubjectRows(rec.Subjects)
		subjectsJSON, signersJSON, err := store.EncodeLists(rows, rec.Signers)
		if err != nil {
			return fmt.Errorf("store %s: %w", rec.ID, err)
		}
		b.ids = append(b.ids, rec.ID)
		b.types = append(b.types, rec.PredicateType)
		b.bundles = append(b.bundles, rec.Bundle)
		b.subjectsJSON = append(b.subjectsJSON, string(subjectsJSON))
		b.signersJSON = append(b.signersJSON, string(signersJSON))
		for _, row := range rows {
			b.subIDs = append(b.subIDs, rec.ID)
			b.names = append(b.names, row[0])
			b.algs = append(b.algs, row[1])
			b.digests = append(b.digests, row[2])
		}
		for _, k := range rec.Signers {
			b.signerIDs = append(b.signerIDs, rec.ID)
			b.signers = append(b.signers, k)
		}
	}
	rows, err := s.pool.Query(ctx, putSQL, b.ids, b.types, now, b.bundles, b.subjectsJSON, b.signersJSON,
		b.subIDs, b.names, b.algs, b.digests, b.signerIDs, b.signers)
	if err != nil {
		return fmt.Errorf("store %s: %w", describe(ids), err)
	}
	inserted, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("store %s: %w", describe(ids), err)
	}
	if len(inserted) < len(ids) {
		if err := s.readStored(ctx, ids, inserted, recs); err != nil {
			return err
		}
	}
	for j, w := range ws {
		w.recs = recs[j]
	}
	return nil
}

// readStored replaces the records of the IDs the statement did not insert
// with their stored records. The statement has committed, so any
// conflicting row it skipped is committed too and this read sees it.
func (s *Store) readStored(ctx context.Context, ids, inserted []string, recs [][]store.Record) error {
	isNew := make(map[string]bool, len(inserted))
	for _, id := range inserted {
		isNew[id] = true
	}
	var stored []string
	for _, id := range ids {
		if !isNew[id] {
			stored = append(stored, id)
		}
	}
	got, err := s.query(ctx, existingSQL, stored)
	if err != nil {
		return fmt.Errorf("read stored %s: %w", describe(stored), err)
	}
	byID := make(map[string]store.Record, len(got))
	for _, r := range got {
		byID[r.ID] = r
	}
	for _, rs := range recs {
		for i := range rs {
			if isNew[rs[i].ID] {
				continue
			}
			r, ok := byID[rs[i].ID]
			if !ok {
				return fmt.Errorf("store %s: %w: neither inserted nor stored before", rs[i].ID, store.ErrNotFound)
			}
			rs[i] = r
		}
	}
	return nil
}

// describe names a batch's IDs in an error: the first and how many more.
func describe(ids []string) string {
	if len(ids) == 1 {
		return ids[0]
	}
	return fmt.Sprintf("%s and %d more", ids[0], len(ids)-1)
}
