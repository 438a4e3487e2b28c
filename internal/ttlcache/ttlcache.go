package ttlcache

import (
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// Cache maps keys to values for a bounded time. It is safe for concurrent
// use; a nil *Cache remembers nothing.
type Cache[K comparable, V any] struct {
	mu  sync.Mutex
	lru *simplelru.LRU[K, entry[V]]
	ttl time.Duration
	now func() time.Time
}

type entry[V any] struct {
	value   V
	expires time.Time
}

// New returns a cache of at most size entries kept for ttl each, with now
// as its clock (nil: time.Now). A ttl or size of zero or less returns nil,
// a cache that remembers nothing.
func New[K comparable, V any](ttl time.Duration, size int, now func() time.Time) *Cache[K, V] {
	if ttl <= 0 || size <= 0 {
		return nil
	}
	if now == nil {
		now = time.Now
	}
	lru, err := simplelru.NewLRU[K, entry[V]](size, nil)
	if err != nil { // only for size <= 0, excluded above
		return nil
	}
	return &Cache[K, V]{lru: lru, ttl: ttl, now: now}
}

// Get returns the value for key unless it is missing or expired; an
// expired entry is dropped, a live one becomes the most recently used.
func (c *Cache[K, V]) Get(key K) (V, bool) {
	var zero V
	if c == nil {
		return zero, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.lru.Get(key)
	if !ok {
		return zero, false
	}
	if !c.now().Before(e.expires) {
		c.lru.Remove(key)
		return zero, false
	}
	return e.value, true
}

// Add stores value for key for the cache's ttl from now, replacing an
// entry for the same key and evicting the least recently used one when
// the cache is full.
func (c *Cache[K, V]) Add(key K, value V) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.Add(key, entry[V]{value: value, expires: c.now().Add(c.ttl)})
}

// Len returns the number of entries, expired ones not yet dropped
// included.
func (c *Cache[K, V]) Len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}
