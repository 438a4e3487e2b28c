package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/store"
)

// Writes go through a group committer (store/groupcommit): this process's
// writes are serialized, and those that queue up behind a running commit
// are committed together in one transaction. SQLite allows one writer at a
// time: left to itself, each concurrent writer would retry BEGIN IMMEDIATE
// in SQLite's busy handler, which sleeps up to 100 ms between tries, and
// each commit would pay its own fsync. Queueing in Go keeps waits short and
// fair, and one fsync then acknowledges every write of the group. The WAL
// frames and the fsync of a commit cost a server more CPU than the rows,
// and an admission miss writes one small record.
//
// Each write keeps its own all-or-nothing semantics: a group is written in
// one transaction, and if a write of several fails, again with a savepoint
// per write, so that the failed write is rolled back alone and the others
// still commit (commitGroup). No write is acknowledged before the group's
// commit returns.

// Group commit bounds: how long a group waits for company, and how many
// writes it holds at most. Each commit costs the server about 0.8 ms of
// CPU besides its rows (measured at 500 admission misses/s, session 16):
// the fsync and the kernel's write-back of the WAL pages, the thread
// switches around that blocking call, the pages every group rewrites, and
// the read connections refilling their caches after it. So the window is
// set by that cost, not by latency alone: against 2 ms, 6 ms halved the
// fsyncs (329 to 160 a second), cut thread switches by a third and a
// miss's CPU by 13-19%, for a p99 of 9-10 ms against 7 ms
// (docs/server.md, session 16).
const (
	groupWindow = 6 * time.Millisecond
	groupMax    = 64
)

// write is one caller's PutAll.
type write struct {
	ctx      context.Context
	vs       []*attest.Verified
	recs     []store.Record
	existing []int // indexes of vs already stored before this write
	err      error
}

// commitGroup writes every write of group in one transaction and marks
// each done with its own outcome.
func (s *Store) commitGroup(group []*write) {
	var live []*write
	for _, w := range group {
		if err := w.ctx.Err(); err != nil {
			w.err = fmt.Errorf("store: %w", err)
			continue
		}
		live = append(live, w)
	}
	if len(live) == 0 {
		return
	}
	// The transaction serves several callers: one caller giving up must
	// not abort the others' writes.
	ctx := context.WithoutCancel(live[0].ctx)
	// A write fails only when SQLite does (a record stored before is no
	// failure), so the group is first written with no savepoints: a
	// savepoint copies each page a write changes into a statement
	// journal first, a tenth of the write's CPU (BenchmarkStore). If a
	// write of several fails, that transaction commits nothing and the
	// group is written again with each write under its own savepoint, so
	// that the failed write is rolled back alone.
	if s.commitWrites(ctx, live, false) {
		s.commitWrites(ctx, live, true)
	}
}

// commitWrites writes live in one transaction and commits it. With
// isolated, each write runs under its own savepoint and a failed one is
// rolled back alone. Without, a failed write is that write's outcome
// when it is alone; in a group of several, nothing is committed and
// commitWrites reports retry, for the group to be written isolated.
func (s *Store) commitWrites(ctx context.Context, live []*write, isolated bool) (retry bool) {
	fail := func(err error) {
		for _, w := range live {
			if w.err == nil {
				w.err = err
			}
		}
	}
	tx, err := s.beginWrite(ctx)
	if err != nil {
		fail(fmt.Errorf("store: begin: %w", err))
		return false
	}
	defer tx.Rollback()
	now := s.now().UTC()
	ts := &txStmts{tx: tx, cache: &s.stmts}
	for _, w := range live {
		if !isolated {
			if err := putWrite(ctx, ts, w, now); err != nil {
				if len(live) > 1 {
					return true
				}
				w.err = err
				return false
			}
			continue
		}
		var txErr error
		w.err, txErr = writeOne(ctx, ts, w, now)
		if txErr != nil {
			// The transaction's state is unknown: commit nothing.
			fail(txErr)
			return false
		}
	}
	if err := tx.Commit(); err != nil {
		fail(fmt.Errorf("store: commit: %w", err))
		return false
	}
	n := 0
	for _, w := range live {
		n += len(w.vs)
	}
	s.ckpt.wrote(n)
	return false
}

// writeOne stores w's evidence inside tx under a savepoint, so that a
// failure rolls back w alone. writeErr is w's own failure; txErr means the
// transaction itself can no longer be trusted.
func writeOne(ctx context.Context, tx *txStmts, w *write, now time.Time) (writeErr, txErr error) {
	if _, err := tx.exec(ctx, `SAVEPOINT hallmark_write`); err != nil {
		return nil, fmt.Errorf("store: savepoint: %w", err)
	}
	if writeErr = putWrite(ctx, tx, w, now); writeErr != nil {
		if _, err := tx.exec(ctx, `ROLLBACK TO hallmark_write`); err != nil {
			return writeErr, fmt.Errorf("store: roll back a failed write: %w", err)
		}
	}
	if _, err := tx.exec(ctx, `RELEASE hallmark_write`); err != nil {
		return writeErr, fmt.Errorf("store: release savepoint: %w", err)
	}
	return writeErr, nil
}

// putWrite inserts w's records inside tx, noting which were stored before.
func putWrite(ctx context.Context, tx *txStmts, w *write, now time.Time) error {
	w.recs = make([]store.Record, len(w.vs))
	w.existing = w.existing[:0]
	for i, v := range w.vs {
		inserted, err := putTx(ctx, tx, v, now, &w.recs[i])
		if err != nil {
			return err
		}
		if !inserted {
			w.existing = append(w.existing, i)
		}
	}
	return nil
}

// beginWrite starts a transaction on the kept write connection. A
// connection the driver has given up on is replaced once, so that one
// broken connection does not fail every later write of the process.
func (s *Store) beginWrite(ctx context.Context) (*sql.Tx, error) {
	tx, err := s.writer.BeginTx(ctx, nil)
	if !errors.Is(err, driver.ErrBadConn) && !errors.Is(err, sql.ErrConnDone) {
		return tx, err
	}
	c, cerr := s.db.Conn(ctx)
	if cerr != nil {
		return nil, fmt.Errorf("%w; reopening the write connection: %w", err, cerr)
	}
	s.writer.Close()
	s.writer = c
	return s.writer.BeginTx(ctx, nil)
}
