package admission

import (
	"time"

	"github.com/hallmark-dev/hallmark/internal/ttlcache"
)

// Cache remembers allow decisions for a bounded time and a bounded number
// of entries, least recently used first out. An entry is per digest,
// namespace, environment and policy version: the first admission of a
// digest into each namespace is decided (and recorded), so the record
// says where the digest went. It is safe for concurrent use.
type Cache struct {
	c *ttlcache.Cache[cacheKey, struct{}]
}

type cacheKey struct{ digest, namespace, environment, policy string }

// NewCache returns a cache keeping at most max entries for ttl each. A zero
// ttl or max gives a cache that remembers nothing.
func NewCache(ttl time.Duration, max int, now func() time.Time) *Cache {
	return &Cache{c: ttlcache.New[cacheKey, struct{}](ttl, max, now)}
}

// Allowed reports whether an unexpired allow is cached for the digest in
// the namespace and environment under the policy version.
func (c *Cache) Allowed(digest, namespace, environment, policyVersion string) bool {
	if c == nil {
		return false
	}
	_, ok := c.c.Get(cacheKey{digest, namespace, environment, policyVersion})
	return ok
}

// Allow records an allow decision for the digest in the namespace and
// environment under the policy version.
func (c *Cache) Allow(digest, namespace, environment, policyVersion string) {
	if c == nil {
		return
	}
	c.c.Add(cacheKey{digest, namespace, environment, policyVersion}, struct{}{})
}

// Len returns the number of entries, expired ones included.
func (c *Cache) Len() int {
	if c == nil {
		return 0
	}
	return c.c.Len()
}
