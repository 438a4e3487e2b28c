// Package groupcommit queues a store's writes and commits the ones that
// arrive while a commit is running together, in one transaction: one
// durable commit acknowledges many callers. Both evidence stores use it
// for PutAll; what a commit does with a group is the store's business.
package groupcommit

import (
	"sync"
	"time"
)

// Committer runs one group commit at a time. A caller queues its write and
// either finds it committed by the goroutine that held the leader lock
// before it, or becomes the leader and commits everything queued so far.
//
// Under concurrent load (the last group held more than one write) the
// leader also waits up to Window for more writes, up to Max, before it
// commits: a commit's fixed cost (a round trip, a WAL flush, a statement)
// is most of a small write's. A lone writer (the CLI, an import) never
// waits.
type Committer[W any] struct {
	commit func(group []W)
	window time.Duration
	max    int

	mu    sync.Mutex // guards queue
	queue []*pending[W]
	more  chan struct{} // a write was queued; buffered, never blocks

	// leader is held by the goroutine committing a group; a write that
	// finds itself done once it holds leader was committed by another.
	leader sync.Mutex
	last   int // size of the last group; guarded by leader
}

// pending is one queued write and whether a group commit has run it.
type pending[W any] struct {
	w    W
	done bool // set under leader
}

// New returns a committer that hands each group to commit, in the order
// its writes were queued. commit must record each write's own outcome in
// it; Do returns only after commit has returned for the write's group.
// window and max bound how long a group waits for company and how many
// writes it holds.
func New[W any](window time.Duration, max int, commit func(group []W)) *Committer[W] {
	return &Committer[W]{commit: commit, window: window, max: max, more: make(chan struct{}, 1)}
}

// Do queues w and returns once the group holding it has been committed.
func (c *Committer[W]) Do(w W) {
	p := &pending[W]{w: w}
	c.mu.Lock()
	c.queue = append(c.queue, p)
	c.mu.Unlock()
	select {
	case c.more <- struct{}{}:
	default:
	}

	c.leader.Lock()
	defer c.leader.Unlock()
	if p.done {
		return
	}
	if c.last > 1 {
		c.gather()
	}
	c.mu.Lock()
	queued := c.queue
	c.queue = nil
	c.mu.Unlock()
	c.last = len(queued)
	group := make([]W, len(queued))
	for i, q := range queued {
		group[i] = q.w
	}
	defer func() {
		for _, q := range queued {
			q.done = true
		}
	}()
	c.commit(group)
}

// gather waits until max writes are queued or window has passed.
func (c *Committer[W]) gather() {
	t := time.NewTimer(c.window)
	defer t.Stop()
	for {
		c.mu.Lock()
		n := len(c.queue)
		c.mu.Unlock()
		if n >= c.max {
			return
		}
		select {
		case <-c.more:
		case <-t.C:
			return
		}
	}
}

// Lock holds off group commits until Unlock: work that must run between
// commits (a checkpoint, a delete) holds it.
func (c *Committer[W]) Lock() { c.leader.Lock() }

// Unlock lets group commits run again.
func (c *Committer[W]) Unlock() { c.leader.Unlock() }
