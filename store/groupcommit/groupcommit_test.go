package groupcommit

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// write records the group it was committed in.
type write struct {
	n         int
	group     int // 1-based index of the commit that ran it
	committed bool
}

// recorder is a commit function that notes each group.
type recorder struct {
	mu     sync.Mutex
	groups [][]int
}

func (r *recorder) commit(group []*write) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ns []int
	for _, w := range group {
		ns = append(ns, w.n)
		w.group = len(r.groups) + 1
		w.committed = true
	}
	r.groups = append(r.groups, ns)
}

// TestLoneWriteCommitsAlone: a write with no company is committed at once,
// in a group of its own, however long the window.
func TestLoneWriteCommitsAlone(t *testing.T) {
	r := &recorder{}
	c := New(time.Hour, 64, r.commit)
	for i := range 3 {
		w := &write{n: i}
		start := time.Now()
		c.Do(w)
		if !w.committed {
			t.Fatalf("write %d: Do returned before its commit", i)
		}
		if d := time.Since(start); d > time.Minute {
			t.Fatalf("write %d waited %v for company", i, d)
		}
	}
	if want := [][]int{{0}, {1}, {2}}; !slices.EqualFunc(r.groups, want, slices.Equal) {
		t.Fatalf("groups %v, want %v", r.groups, want)
	}
}

// TestQueuedWritesCommitTogether: writes queued while a commit (or a
// Lock holder) runs are committed in one group, in the order queued, and
// each Do returns only after that group's commit.
func TestQueuedWritesCommitTogether(t *testing.T) {
	r := &recorder{}
	c := New(time.Millisecond, 64, r.commit)
	const n = 10
	ws := make([]*write, n)
	var wg sync.WaitGroup
	c.Lock()
	for i := range n {
		ws[i] = &write{n: i}
		wg.Go(func() { c.Do(ws[i]) })
		waitQueued(t, c, i+1) // queued in order
	}
	c.Unlock()
	wg.Wait()
	if len(r.groups) != 1 || !slices.Equal(r.groups[0], []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
		t.Fatalf("groups %v, want one group of all %d writes in order", r.groups, n)
	}
	for i, w := range ws {
		if !w.committed {
			t.Errorf("write %d: Do returned before its commit", i)
		}
	}
}

// TestMaxEndsTheWait: after a group of several, a leader waits for company
// until max writes are queued, not for the rest of the window.
func TestMaxEndsTheWait(t *testing.T) {
	r := &recorder{}
	c := New(time.Hour, 4, r.commit)
	queue := func(from, n int) {
		var wg sync.WaitGroup
		c.Lock()
		for i := range n {
			wg.Go(func() { c.Do(&write{n: from + i}) })
			waitQueued(t, c, i+1)
		}
		c.Unlock()
		wg.Wait()
	}
	queue(0, 2) // the next leader will wait for company
	within(t, time.Minute, "a leader with max writes queued waited for the window", func() { queue(2, 4) })
	if want := [][]int{{0, 1}, {2, 3, 4, 5}}; !slices.EqualFunc(r.groups, want, slices.Equal) {
		t.Fatalf("groups %v, want %v", r.groups, want)
	}
}

// TestConcurrencyKeepsLeadersWaiting: once a write has queued behind
// another, each leader waits out the window for company for a while,
// even after groups of one: at a few hundred writes a second most
// groups would otherwise be one write that found no commit running.
func TestConcurrencyKeepsLeadersWaiting(t *testing.T) {
	r := &recorder{}
	const window = 20 * time.Millisecond
	c := New(window, 64, r.commit)
	var wg sync.WaitGroup
	c.Lock()
	for i := range 2 {
		wg.Go(func() { c.Do(&write{n: i}) })
		waitQueued(t, c, i+1)
	}
	c.Unlock()
	wg.Wait()
	for i := range 2 {
		start := time.Now()
		c.Do(&write{n: 2 + i})
		if d := time.Since(start); d < window {
			t.Errorf("lone write %d after concurrent ones committed after %v, want a wait of the window (%v)", i, d, window)
		}
	}
}

// TestWindowCountsFromTheOldestWrite: a write queued while a group
// committed, for longer than the window, leads the next group without
// waiting a window more; waiting from its own turn to lead put two
// commits and a window into the tail latency.
func TestWindowCountsFromTheOldestWrite(t *testing.T) {
	const window, slow = 200 * time.Millisecond, 400 * time.Millisecond
	first := make(chan struct{})
	c := New(window, 64, func(group []*write) {
		if group[0].n == 0 {
			close(first)
			time.Sleep(slow) // the first group commits slowly
		}
	})
	var wg sync.WaitGroup
	wg.Go(func() { c.Do(&write{n: 0}) })
	<-first
	start := time.Now()
	c.Do(&write{n: 1}) // queued behind the slow commit: concurrent, so its group gathers
	wg.Wait()
	if d := time.Since(start); d >= slow+window/2 {
		t.Fatalf("a write queued %v before its turn to lead committed after %v: it waited another window (%v)", slow, d, window)
	}
}

// within runs f and fails the test with msg if it has not returned
// within d.
func within(t *testing.T, d time.Duration, msg string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { f(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatal(msg)
	}
}

// waitQueued waits until n writes are queued.
func waitQueued[W any](t *testing.T, c *Committer[W], n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c.Queued() >= n {
			return
		}
		time.Sleep(100 * time.Microsecond)
	}
	t.Fatalf("%d writes never queued", n)
}

// TestCommittedWriteDoesNotWaitForNextGroup: the callers of a committed
// group return while the next group is still committing; only that
// group's own callers wait for it.
func TestCommittedWriteDoesNotWaitForNextGroup(t *testing.T) {
	started, proceed := make(chan int, 2), [2]chan struct{}{make(chan struct{}), make(chan struct{})}
	groups := 0
	c := New(time.Millisecond, 64, func(group []*write) {
		g := groups
		groups++
		started <- g
		<-proceed[g]
		for _, w := range group {
			w.committed = true
		}
	})
	var first sync.WaitGroup
	c.Lock()
	a, b, later := &write{n: 0}, &write{n: 1}, &write{n: 2}
	first.Go(func() { c.Do(a) })
	waitQueued(t, c, 1)
	first.Go(func() { c.Do(b) })
	waitQueued(t, c, 2)
	c.Unlock()
	if g := <-started; g != 0 {
		t.Fatalf("group %d started first", g)
	}
	laterDone := make(chan struct{})
	go func() { c.Do(later); close(laterDone) }()
	waitQueued(t, c, 1)
	close(proceed[0])
	if g := <-started; g != 1 {
		t.Fatalf("group %d started second", g)
	}
	within(t, 10*time.Second, "callers of the first group waited for the second group's commit", first.Wait)
	if !a.committed || !b.committed || later.committed {
		t.Fatalf("committed: first group %v %v, second %v", a.committed, b.committed, later.committed)
	}
	close(proceed[1])
	<-laterDone
	if !later.committed {
		t.Fatal("Do returned before its group committed")
	}
}

// TestCommitPanicReachesEveryCaller: when commit panics, every caller of
// that group panics too (none returns as if its write were committed),
// and the writes queued after it are still committed.
func TestCommitPanicReachesEveryCaller(t *testing.T) {
	r := &recorder{}
	c := New(time.Millisecond, 64, func(group []*write) {
		for _, w := range group {
			if w.n < 0 {
				panic("broken write")
			}
		}
		r.commit(group)
	})
	var wg sync.WaitGroup
	panics := make([]any, 2)
	c.Lock()
	for i, n := range []int{-1, 2} {
		wg.Go(func() {
			defer func() { panics[i] = recover() }()
			c.Do(&write{n: n})
		})
		waitQueued(t, c, i+1)
	}
	c.Unlock()
	within(t, 10*time.Second, "a caller of the panicking group never returned", wg.Wait)
	for i, p := range panics {
		if p != "broken write" {
			t.Errorf("caller %d of the panicking group: recovered %v, want the commit's panic", i, p)
		}
	}
	after := &write{n: 3}
	within(t, 10*time.Second, "a write after the panicking group was never committed", func() { c.Do(after) })
	if !after.committed || len(r.groups) != 1 {
		t.Errorf("after the panic: committed %v, groups %v", after.committed, r.groups)
	}
}
