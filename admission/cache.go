package admission

import (
	"container/list"
	"sync"
	"time"
)

// Cache remembers allow decisions for a bounded time and a bounded number
// of entries, least recently used first out. An entry is per digest,
// namespace, environment and policy version: the first admission of a
// digest into each namespace is decided (and recorded), so the record
// says where the digest went. It is safe for concurrent use.
type Cache struct {
	mu    sync.Mutex
	ttl   time.Duration
	max   int
	now   func() time.Time
	order *list.List // front = most recently used; values are *cacheEntry
	byKey map[cacheKey]*list.Element
}

type cacheKey struct{ digest, namespace, environment, policy string }

type cacheEntry struct {
	key     cacheKey
	expires time.Time
}

// NewCache returns a cache keeping at most max entries for ttl each. A zero
// ttl or max gives a cache that remembers nothing.
func NewCache(ttl time.Duration, max int, now func() time.Time) *Cache {
	if now == nil {
		now = time.Now
	}
	return &Cache{ttl: ttl, max: max, now: now, order: list.New(), byKey: map[cacheKey]*list.Element{}}
}

// Allowed reports whether an unexpired allow is cached for the digest in
// the namespace and environment under the policy version.
func (c *Cache) Allowed(digest, namespace, environment, policyVersion string) bool {
	if c == nil || c.max <= 0 || c.ttl <= 0 {
		return false
	}
	k := cacheKey{digest, namespace, environment, policyVersion}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[k]
	if !ok {
		return false
	}
	e := el.Value.(*cacheEntry)
	if !c.now().Before(e.expires) {
		c.order.Remove(el)
		delete(c.byKey, k)
		return false
	}
	c.order.MoveToFront(el)
	return true
}

// Allow records an allow decision for the digest in the namespace and
// environment under the policy version.
func (c *Cache) Allow(digest, namespace, environment, policyVersion string) {
	if c == nil || c.max <= 0 || c.ttl <= 0 {
		return
	}
	k := cacheKey{digest, namespace, environment, policyVersion}
	c.mu.Lock()
	defer c.mu.Unlock()
	exp := c.now().Add(c.ttl)
	if el, ok := c.byKey[k]; ok {
		el.Value.(*cacheEntry).expires = exp
		c.order.MoveToFront(el)
		return
	}
	for c.order.Len() >= c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.byKey, last.Value.(*cacheEntry).key)
	}
	c.byKey[k] = c.order.PushFront(&cacheEntry{key: k, expires: exp})
}

// Len returns the number of entries, expired ones included.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
