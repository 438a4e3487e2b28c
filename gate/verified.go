package gate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/digest"
)

// WithVerifiedCache keeps verification results, up to about maxBytes of
// memory, keyed by the SHA-256 of the bundle's exact bytes, so that
// evidence the gate has verified once (or that Remember was given) is not
// verified again on every evaluation: a denied workload that Kubernetes
// keeps retrying, an allow whose cache entry expired, a recheck, a new
// artifact or environment over evidence uploaded through the server. With
// each result the cache keeps the predicate read into policy input, so a
// cached bundle is not decoded again either. Verifying the same bytes
// against the same trust file cannot give another result: entries are
// keyed on the bundle's SHA-256 and the trust file's keys, and roles are
// checked on every evaluation. Bundles larger than an eighth of maxBytes
// are not kept. 0 (the default) verifies every time.
func WithVerifiedCache(maxBytes int64) Option {
	return func(c *config) error {
		if maxBytes < 0 {
			return errors.New("gate.WithVerifiedCache: negative size")
		}
		c.verifiedBytes = maxBytes
		return nil
	}
}

// verifier verifies evidence against the gate's trust file, through the
// cache when there is one.
type verifier struct {
	trusted *attest.KeySet
	keysID  string // keySetID(trusted): part of every cache key
	opts    []attest.VerifyOption
	max     int64 // 0: no cache

	mu    sync.Mutex // guards cache and bytes
	cache *simplelru.LRU[string, *checked]
	bytes int64
}

// checked is one bundle verified against the trust file, with its
// predicate read into what the policy sees the first time the gate needs
// it: a cached bundle is neither verified nor decoded again.
type checked struct {
	v *attest.Verified

	once sync.Once
	pred any   // kind.read's result
	err  error // kind.read's error
}

// predicate returns read(c.v), calling read once per checked bundle. The
// predicate type alone chooses read, so every caller passes the same one.
func (c *checked) predicate(read func(*attest.Verified) (any, error)) (any, error) {
	c.once.Do(func() { c.pred, c.err = read(c.v) })
	return c.pred, c.err
}

func newVerifier(trusted *attest.KeySet, maxBytes int64, opts ...attest.VerifyOption) (*verifier, error) {
	v := &verifier{trusted: trusted, keysID: keySetID(trusted), max: maxBytes, opts: append([]attest.VerifyOption{}, opts...)}
	if maxBytes == 0 {
		return v, nil
	}
	c, err := simplelru.NewLRU(math.MaxInt32, func(_ string, c *checked) { v.bytes -= footprint(c.v) })
	if err != nil {
		return nil, err
	}
	v.cache = c
	return v, nil
}

// keySetID names the keys and identities of a trust file: a verification
// result holds only for the key set it was checked against, so the cache
// key carries it, and a key revoked from the trust file is a cache miss.
func keySetID(ks *attest.KeySet) string {
	var ids []string
	for _, k := range ks.Keys() {
		ids = append(ids, "key "+k.ID())
	}
	for _, id := range ks.Identities() {
		ids = append(ids, fmt.Sprintf("identity %+v", id))
	}
	sort.Strings(ids)
	h := sha256.New()
	for _, id := range ids {
		h.Write([]byte(id))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// footprint estimates the heap a cached result holds: the bundle, its
// decoded payload, the parsed statement, whose predicate is a tree of
// protobuf Struct values, and the predicate as policy input. Measured on
// vulnerability-scan bundles of about 1.6 KB: 13 KB of heap each, 8x the
// bundle, before the policy input was kept too.
func footprint(ev *attest.Verified) int64 { return 10*int64(len(ev.Raw)) + 1024 }

// cacheKey is the key of bundle id (the SHA-256 of its exact bytes, so
// other bytes under a known ID are another key) under v's trust file.
func (v *verifier) cacheKey(id string) string { return id + " " + v.keysID }

func (v *verifier) get(id string) (*checked, bool) {
	if v.max == 0 {
		return nil, false
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.cache.Get(v.cacheKey(id))
}

func (v *verifier) add(id string, c *checked) {
	size := footprint(c.v)
	if v.max == 0 || size > v.max/8 {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	key := v.cacheKey(id)
	if v.cache.Contains(key) {
		return
	}
	v.cache.Add(key, c)
	v.bytes += size
	for v.bytes > v.max {
		v.cache.RemoveOldest()
	}
}

// verify returns raw verified against the trust file. The cache is looked
// up by the digest of raw itself, never by a name the caller gives it, so
// bytes changed in the store are verified afresh.
func (v *verifier) verify(ctx context.Context, raw []byte) (*checked, error) {
	id := digest.Sum256(raw).String()
	if got, ok := v.get(id); ok {
		return got, nil
	}
	got, err := attest.Verify(ctx, raw, v.trusted, append([]attest.VerifyOption{attest.WithInputName(id)}, v.opts...)...)
	if err != nil {
		return nil, err
	}
	c := &checked{v: got}
	v.add(id, c)
	return c, nil
}

// remember caches ev if every signer it claims is a key of the trust file,
// with its predicate read by read when read is not nil.
func (v *verifier) remember(ev *attest.Verified, read func(*attest.Verified) (any, error)) {
	if v.max == 0 || ev == nil || len(ev.Signers) == 0 || len(v.opts) > 0 {
		return // with extra verify options (a trusted root) the caller's check may be weaker
	}
	for _, k := range ev.Signers {
		t, ok := v.trusted.Lookup(k.ID())
		if !ok || !t.Equal(k) {
			return
		}
	}
	if id := digest.Sum256(ev.Raw).String(); id == ev.ID {
		c := &checked{v: ev}
		if read != nil {
			c.predicate(read)
		}
		v.add(id, c)
	}
}

// Remember tells the gate that ev has been verified (the server verifies
// every upload against the same trust file), so its first evaluation need
// not verify it again; the gate reads its predicate into policy input now,
// at upload, rather than during an admission review. It is ignored without
// WithVerifiedCache, and for evidence signed by keys the gate's trust file
// does not hold.
func (g *Gate) Remember(ev *attest.Verified) {
	if ev == nil {
		return
	}
	g.verifier.remember(ev, g.kinds[ev.PredicateType].read)
}
