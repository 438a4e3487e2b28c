package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/store"
)

// putSQL stores a batch in one statement, so one round trip and one commit.
// A statement is its own transaction: the rows of every bundle are stored,
// or none are. Evidence rows whose ID is already stored are skipped (ON
// CONFLICT waits for a concurrent writer of the same ID to finish first),
// and only the bundles actually inserted get subject and signer rows. The
// foreign keys hold because PostgreSQL checks them at the end of the
// statement, after all three inserts. It returns the IDs it inserted.
//
// Parameters: $1 ids, $2 predicate types, $3 the shared stored_at,
// $4 bundles; $5-$8 subject rows (evidence id, name, alg, digest);
// $9-$10 signer rows (evidence id, key id). The text never changes, so pgx
// prepares it once per connection whatever the batch size.
const putSQL = `WITH ins AS (
	INSERT INTO evidence(id, predicate_type, stored_at, bundle)
	SELECT u.id, u.predicate_type, $3::timestamptz, u.bundle
	FROM unnest($1::text[], $2::text[], $4::bytea[]) AS u(id, predicate_type, bundle)
	ON CONFLICT (id) DO NOTHING
	RETURNING id
), subs AS (
	INSERT INTO subjects(evidence_id, name, alg, digest)
	SELECT u.evidence_id, u.name, u.alg, u.digest
	FROM unnest($5::text[], $6::text[], $7::text[], $8::text[]) AS u(evidence_id, name, alg, digest)
	JOIN ins ON ins.id = u.evidence_id
), sigs AS (
	INSERT INTO signers(evidence_id, key_id)
	SELECT u.evidence_id, u.key_id
	FROM unnest($9::text[], $10::text[]) AS u(evidence_id, key_id)
	JOIN ins ON ins.id = u.evidence_id
)
SELECT id FROM ins`

// existingSQL reads the stored records of a batch's already-stored IDs.
var existingSQL = recordsSQL(`SELECT id, predicate_type, stored_at, bundle FROM evidence WHERE id = ANY($1)`, oldestFirst)

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
	subIDs, names      []string
	algs, digests      []string
	signerIDs, signers []string
}

// PutAll stores vs in one transaction: all of them or none. It is one
// statement (one round trip, one durable commit) unless some bundles were
// already stored, whose stored records it then reads in one more query.
func (s *Store) PutAll(ctx context.Context, vs []*attest.Verified) ([]store.Record, error) {
	now := s.now().UTC().Truncate(time.Microsecond)
	recs := make([]store.Record, len(vs))
	first := make(map[string]int, len(vs)) // ID -> its first position in vs
	for i, v := range vs {
		if v == nil {
			return nil, fmt.Errorf("store: nil evidence at position %d of %d", i, len(vs))
		}
		recs[i] = store.Record{
			ID:            v.ID,
			PredicateType: v.PredicateType,
			Subjects:      v.Subjects(),
			Signers:       v.SignerIDs(),
			StoredAt:      now,
			Bundle:        v.Raw,
		}
		if _, dup := first[v.ID]; !dup {
			first[v.ID] = i
		}
	}
	if len(vs) == 0 {
		return recs, nil
	}
	// Rows go in ID order, so two batches sharing IDs lock them in the same
	// order and cannot deadlock on each other.
	ids := make([]string, 0, len(first))
	for id := range first {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var b batch
	for _, id := range ids {
		rec := recs[first[id]]
		b.ids = append(b.ids, rec.ID)
		b.types = append(b.types, rec.PredicateType)
		b.bundles = append(b.bundles, rec.Bundle)
		for _, sub := range rec.Subjects {
			for alg, d := range sub.Digest {
				b.subIDs = append(b.subIDs, rec.ID)
				b.names = append(b.names, sub.Name)
				b.algs = append(b.algs, alg)
				b.digests = append(b.digests, strings.ToLower(d))
			}
		}
		for _, k := range rec.Signers {
			b.signerIDs = append(b.signerIDs, rec.ID)
			b.signers = append(b.signers, k)
		}
	}
	rows, err := s.pool.Query(ctx, putSQL, b.ids, b.types, now, b.bundles,
		b.subIDs, b.names, b.algs, b.digests, b.signerIDs, b.signers)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", describe(ids), err)
	}
	inserted, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", describe(ids), err)
	}
	if len(inserted) == len(ids) {
		return recs, nil
	}
	// Bundles stored before are answered with their stored record. The
	// statement has committed, so any conflicting row it skipped is
	// committed too and this read sees it.
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
		return nil, fmt.Errorf("read stored %s: %w", describe(stored), err)
	}
	byID := make(map[string]store.Record, len(got))
	for _, r := range got {
		byID[r.ID] = r
	}
	for i := range recs {
		if isNew[recs[i].ID] {
			continue
		}
		r, ok := byID[recs[i].ID]
		if !ok {
			return nil, fmt.Errorf("store %s: %w: neither inserted nor stored before", recs[i].ID, store.ErrNotFound)
		}
		recs[i] = r
	}
	return recs, nil
}

// describe names a batch's IDs in an error: the first and how many more.
func describe(ids []string) string {
	if len(ids) == 1 {
		return ids[0]
	}
	return fmt.Sprintf("%s and %d more", ids[0], len(ids)-1)
}
