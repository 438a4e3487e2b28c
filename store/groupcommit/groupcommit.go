// Package groupcommit queues a store's writes and commits the ones that
// arrive while a commit is running together, in one transaction: one
// durable commit acknowledges many callers. Both evidence stores use it
// for PutAll; what a commit does with a group is the store's business.
package groupcommit

import (
	"sync"
	"time"
)

// Committer runs one group commit at a time. A caller queues its write;
// if no group is being committed it becomes the leader and commits
// everything queued so far, and otherwise it waits to be told either that
// its write was committed or that it leads the next group. A leader that
// finishes hands over to the oldest write still queued, so a committed
// write returns at once and never waits behind the next group.
//
// Under concurrent load (a write queued behind another in the last
// ConcurrentFor) the leader also waits for more writes, up to Max, until
// Window has passed since the oldest write of its group was queued,
// before it commits: a commit's fixed cost (a round trip, a WAL flush, a
// statement, the store's per-commit bookkeeping) is most of a small
// write's. A lone writer (the CLI, an import) never waits.
type Committer[W any] struct {
	commit func(group []W)
	window time.Duration
	max    int

	mu      sync.Mutex // guards queue, leading and overlapped
	queue   []*pending[W]
	leading bool          // a leader is gathering or committing a group
	full    chan struct{} // max writes are queued; buffered, never blocks
	// overlapped is when a write last queued behind a leader.
	overlapped time.Time

	// running is held while a group commits, and by Lock.
	running sync.Mutex
}

// ConcurrentFor is how long after a write last queued behind another
// leaders keep waiting for company. At a few hundred writes a second
// from concurrent callers, most groups would otherwise be a lone write
// that arrived while no commit ran, committed at once, each with its
// own flush: in hallmark serve at 500 admission misses/s, 1.24 writes
// per group when only a group of several made the next leader wait.
const ConcurrentFor = 500 * time.Millisecond

// pending is one queued write. Its wake channel tells its caller how the
// write ended, or that the caller is to lead the next group.
type pending[W any] struct {
	w      W
	queued time.Time
	wake   chan wakeup
}

// wakeup is what a queued write's caller is told: lead the next group,
// or its group was committed (panicked is what commit panicked with, if
// it did).
type wakeup struct {
	lead     bool
	panicked any
}

// New returns a committer that hands each group to commit, in the order
// its writes were queued. commit must record each write's own outcome in
// it; Do returns only after commit has returned for the write's group.
// window and max bound how long a group waits for company and how many
// writes it holds.
func New[W any](window time.Duration, max int, commit func(group []W)) *Committer[W] {
	return &Committer[W]{commit: commit, window: window, max: max, full: make(chan struct{}, 1)}
}

// Do queues w and returns once the group holding it has been committed.
// If commit panicked on that group, Do panics with the same value: no
// caller of a group whose commit did not finish is told it finished.
func (c *Committer[W]) Do(w W) {
	p := &pending[W]{w: w, queued: time.Now(), wake: make(chan wakeup, 1)}
	c.mu.Lock()
	c.queue = append(c.queue, p)
	lead := !c.leading
	if !lead {
		c.overlapped = p.queued
	}
	full := len(c.queue) >= c.max
	c.leading = true
	c.mu.Unlock()
	if !lead {
		// Only a full group cuts the leader's wait short: waking it for
		// every write (a goroutine switch, often a thread's) cost more
		// than it decided.
		if full {
			select {
			case c.full <- struct{}{}:
			default:
			}
		}
		u := <-p.wake
		if u.panicked != nil {
			panic(u.panicked)
		}
		if !u.lead {
			return
		}
	}
	c.lead()
}

// lead commits the queued writes as one group, wakes their callers, and
// hands leadership to the oldest write queued meanwhile, if any; a panic
// in commit reaches every caller of the group, and the next group still
// gets its leader.
func (c *Committer[W]) lead() {
	c.mu.Lock()
	concurrent := time.Since(c.overlapped) < ConcurrentFor
	c.mu.Unlock()
	if concurrent {
		c.gather()
	}
	c.running.Lock() // a Lock holder's writes wait, and join this group
	c.mu.Lock()
	queued := c.queue
	c.queue = nil
	c.mu.Unlock()
	group := make([]W, len(queued))
	for i, q := range queued {
		group[i] = q.w
	}
	panicked := c.run(group)
	c.running.Unlock()
	for _, q := range queued {
		q.wake <- wakeup{panicked: panicked} // buffered: the leader's own is never read
	}
	c.mu.Lock()
	if len(c.queue) == 0 {
		c.leading = false
	} else {
		c.queue[0].wake <- wakeup{lead: true}
	}
	c.mu.Unlock()
	if panicked != nil {
		panic(panicked)
	}
}

// run commits group and returns what commit panicked with, or nil.
func (c *Committer[W]) run(group []W) (panicked any) {
	defer func() { panicked = recover() }()
	c.commit(group)
	return nil
}

// gather waits until max writes are queued or the window has passed
// since the oldest of them was queued: a write that waited for the last
// group's commit has waited for company already, and waiting a whole
// window more put two commits and a window into the tail latency.
// The leader's own write is always queued, and is the oldest.
func (c *Committer[W]) gather() {
	c.mu.Lock()
	oldest := c.queue[0].queued
	c.mu.Unlock()
	wait := c.window - time.Since(oldest)
	if wait <= 0 {
		return
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		c.mu.Lock()
		n := len(c.queue)
		c.mu.Unlock()
		if n >= c.max {
			return
		}
		select {
		case <-c.full: // may be stale, from a group already committed: recheck
		case <-t.C:
			return
		}
	}
}

// Queued reports how many writes wait for a group commit.
func (c *Committer[W]) Queued() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.queue)
}

// Lock holds off group commits until Unlock: work that must run between
// commits (a checkpoint, a delete) holds it.
func (c *Committer[W]) Lock() { c.running.Lock() }

// Unlock lets group commits run again.
func (c *Committer[W]) Unlock() { c.running.Unlock() }
