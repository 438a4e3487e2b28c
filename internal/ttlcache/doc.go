// Package ttlcache is Hallmark's one bounded, expiring cache: at most a
// fixed number of entries, least recently used out first, each forgotten a
// fixed time after it was added, on an injected clock. The LRU is
// golang-lru's simplelru; golang-lru's own expirable.LRU is not used
// because it reads the wall clock and starts a cleanup goroutine that never
// stops, and a library may own neither.
package ttlcache
