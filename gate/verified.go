package gate

import (
	"context"
	"errors"
	"math"
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/digest"
)

// WithVerifiedCache keeps verification results, up to about maxBytes of
// memory, keyed by the SHA-256 of the bundle's exact bytes, so that
// evidence the gate has verified once (or that Remember was given) is not
// verified again on every evaluation: a denied workload that Kubernetes
// keeps retrying, an allow whose cache entry expired, a recheck. Verifying
// the same bytes against the same trust file cannot give another result,
// and the gate's trust file is fixed for its lifetime. Bundles larger than
// an eighth of maxBytes are not kept. 0 (the default) verifies every time.
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
	opts    []attest.VerifyOption
	max     int64 // 0: no cache

	mu    sync.Mutex // guards cache and bytes
	cache *simplelru.LRU[string, *attest.Verified]
	bytes int64
}

func newVerifier(trusted *attest.KeySet, maxBytes int64, opts ...attest.VerifyOption) (*verifier, error) {
	v := &verifier{trusted: trusted, max: maxBytes, opts: append([]attest.VerifyOption{}, opts...)}
	if maxBytes == 0 {
		return v, nil
	}
	c, err := simplelru.NewLRU(math.MaxInt32, func(_ string, ev *attest.Verified) { v.bytes -= footprint(ev) })
	if err != nil {
		return nil, err
	}
	v.cache = c
	return v, nil
}

// footprint estimates the heap a cached result holds: the bundle, its
// decoded payload and the parsed statement, whose predicate is a tree of
// protobuf Struct values. Measured on vulnerability-scan bundles of about
// 1.6 KB: 13 KB of heap each, 8x the bundle.
func footprint(ev *attest.Verified) int64 { return 8*int64(len(ev.Raw)) + 1024 }

func (v *verifier) get(id string) (*attest.Verified, bool) {
	if v.max == 0 {
		return nil, false
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.cache.Get(id)
}

func (v *verifier) add(id string, ev *attest.Verified) {
	size := footprint(ev)
	if v.max == 0 || size > v.max/8 {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.cache.Contains(id) {
		return
	}
	v.cache.Add(id, ev)
	v.bytes += size
	for v.bytes > v.max {
		v.cache.RemoveOldest()
	}
}

// verify returns raw verified against the trust file; id is its ID.
func (v *verifier) verify(ctx context.Context, id string, raw []byte) (*attest.Verified, error) {
	if got, ok := v.get(id); ok {
		return got, nil
	}
	got, err := attest.Verify(ctx, raw, v.trusted, append([]attest.VerifyOption{attest.WithInputName(id)}, v.opts...)...)
	if err != nil {
		return nil, err
	}
	v.add(id, got)
	return got, nil
}

// remember caches ev if every signer it claims is a key of the trust file.
func (v *verifier) remember(ev *attest.Verified) {
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
		v.add(id, ev)
	}
}

// Remember tells the gate that ev has been verified (the server verifies
// every upload against the same trust file), so its first evaluation need
// not verify it again. It is ignored without WithVerifiedCache, and for
// evidence signed by keys the gate's trust file does not hold.
func (g *Gate) Remember(ev *attest.Verified) { g.verifier.remember(ev) }
