package oci

import (
	"container/list"
	"sync"
	"time"
)

// tagCache remembers resolved references for a bounded time, at most max
// of them, least recently used first out. Safe for concurrent use; a nil
// *tagCache remembers nothing.
type tagCache struct {
	mu    sync.Mutex
	ttl   time.Duration
	max   int
	now   func() time.Time
	order *list.List // front = most recently used; values are *tagEntry
	byRef map[string]*list.Element
}

type tagEntry struct {
	ref, digest string
	expires     time.Time
}

func newTagCache(ttl time.Duration, max int, now func() time.Time) *tagCache {
	if ttl <= 0 || max <= 0 {
		return nil
	}
	return &tagCache{ttl: ttl, max: max, now: now, order: list.New(), byRef: map[string]*list.Element{}}
}

func (c *tagCache) get(ref string) (string, bool) {
	if c == nil {
		return "", false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byRef[ref]
	if !ok {
		return "", false
	}
	e := el.Value.(*tagEntry)
	if !c.now().Before(e.expires) {
		c.order.Remove(el)
		delete(c.byRef, ref)
		return "", false
	}
	c.order.MoveToFront(el)
	return e.digest, true
}

func (c *tagCache) put(ref, digest string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	exp := c.now().Add(c.ttl)
	if el, ok := c.byRef[ref]; ok {
		e := el.Value.(*tagEntry)
		e.digest, e.expires = digest, exp
		c.order.MoveToFront(el)
		return
	}
	for c.order.Len() >= c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.byRef, last.Value.(*tagEntry).ref)
	}
	c.byRef[ref] = c.order.PushFront(&tagEntry{ref: ref, digest: digest, expires: exp})
}

func (c *tagCache) len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
