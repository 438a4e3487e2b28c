package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// checkpointer copies the write-ahead log into the database file in the
// background. SQLite's own automatic checkpoint runs inside the commit
// that crosses its threshold (1,000 pages), on the committing connection:
// that commit, and every write queued behind it in the committer, waited
// for a thousand page copies and an fsync of the database file, the tail
// of a busy server's admission latency. The store switches it off
// (wal_autocheckpoint 0 on every connection) and checkpoints after about
// every checkpointRecords records written, in two passes (checkpoint).
// Closing the store's last connection checkpoints what is left, as SQLite
// does on close.
type checkpointer struct {
	db      *sql.DB
	writers sync.Locker   // the committer: held, no group commit runs
	due     chan struct{} // buffered: a request made while one runs is kept, never more
	stop    chan struct{}
	closing sync.Once
	done    sync.WaitGroup

	written atomic.Int64 // records since the last request
}

// checkpointRecords is how many records are written between checkpoints:
// a VSA and a decision written alone dirty about 15 pages
// (TestPagesPerWrite, schema 9; 22 when this bound was set), so about
// 500 pages (700 then), below SQLite's default threshold of 1,000.
const checkpointRecords = 64

// restartWait bounds how long the locked pass waits for readers of older
// snapshots before it leaves the log to grow until the next checkpoint.
const restartWait = 5 * time.Millisecond

func startCheckpointer(db *sql.DB, writers sync.Locker) *checkpointer {
	c := &checkpointer{db: db, writers: writers, due: make(chan struct{}, 1), stop: make(chan struct{})}
	c.done.Go(c.run)
	return c
}

// wrote counts n records committed (or rows of about a record's size).
func (c *checkpointer) wrote(n int) {
	if c.written.Add(int64(n)) < checkpointRecords {
		return
	}
	c.written.Store(0)
	select {
	case c.due <- struct{}{}:
	default:
	}
}

func (c *checkpointer) run() {
	for {
		select {
		case <-c.stop:
			return
		case <-c.due:
			c.checkpoint()
		}
	}
}

// checkpoint copies the log in two passes. The first runs beside the
// writers and copies nearly all of it. The log only restarts from its
// start (instead of growing) when a write begins after a checkpoint that
// copied every frame while no reader still read from the log, which a
// checkpoint racing the writers never sees: in a server run the log grew
// to 200 MB. So the second pass holds the committer's lock, copies
// the few frames committed during the first and waits for the readers of
// older snapshots (RESTART; reads take a fraction of a millisecond, and
// new readers read the database file). Writes wait for that pass only.
// A failed or partial checkpoint leaves the log longer and the next one
// copies it: nothing is lost, so nothing is reported.
func (c *checkpointer) checkpoint() {
	ctx := context.Background()
	c.db.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`)
	conn, err := c.db.Conn(ctx)
	if err != nil {
		return
	}
	defer conn.Close()
	c.writers.Lock()
	defer c.writers.Unlock()
	// A long read (an export, another process) must not hold the writers
	// for the store's busy timeout: give up on the restart after
	// restartWait; the frames are copied all the same.
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`PRAGMA busy_timeout = %d`, restartWait.Milliseconds())); err != nil {
		return
	}
	conn.ExecContext(ctx, `PRAGMA wal_checkpoint(RESTART)`)
	conn.ExecContext(ctx, fmt.Sprintf(`PRAGMA busy_timeout = %d`, busyTimeout.Milliseconds()))
}

// close stops the goroutine and waits for a running checkpoint; closing
// again does nothing (a store may be closed twice).
func (c *checkpointer) close() {
	c.closing.Do(func() { close(c.stop) })
	c.done.Wait()
}
