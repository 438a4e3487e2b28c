package gate_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/store/sqlite"
)

// readCounter counts the bundles a gate reads from a store, through List
// and (when the store is an IDLister) Bundles.
type readCounter struct {
	mu      sync.Mutex
	bundles int
}

func (c *readCounter) add(n int) { c.mu.Lock(); defer c.mu.Unlock(); c.bundles += n }

func (c *readCounter) take() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.bundles
	c.bundles = 0
	return n
}

// listOnlyStore is a store that can list records but not their IDs alone:
// a gate over it reads every bundle with List.
type listOnlyStore struct {
	st    *sqlite.Store
	reads *readCounter
}

func (s listOnlyStore) Put(ctx context.Context, v *attest.Verified) (store.Record, error) {
	return s.st.Put(ctx, v)
}

func (s listOnlyStore) PutAll(ctx context.Context, vs []*attest.Verified) ([]store.Record, error) {
	return s.st.PutAll(ctx, vs)
}

func (s listOnlyStore) Get(ctx context.Context, id string) (store.Record, error) {
	return s.st.Get(ctx, id)
}

func (s listOnlyStore) List(ctx context.Context, q store.Query) ([]store.Record, error) {
	recs, err := s.st.List(ctx, q)
	s.reads.add(len(recs))
	return recs, err
}

func (s listOnlyStore) Close() error { return nil }

// idStore is listOnlyStore that also lists IDs and reads chosen bundles.
type idStore struct{ listOnlyStore }

func (s idStore) ListIDs(ctx context.Context, q store.Query) ([]string, error) {
	return s.st.ListIDs(ctx, q)
}

func (s idStore) Bundles(ctx context.Context, ids []string) (map[string][]byte, error) {
	b, err := s.st.Bundles(ctx, ids)
	s.reads.add(len(b))
	return b, err
}

var (
	_ store.Batcher  = listOnlyStore{}
	_ store.IDLister = idStore{}
)

// TestWarmMissReadsNoCachedBundle: a gate whose verification cache holds
// an artifact's evidence reads none of its bundles on the next evaluation
// (an admission cache miss: another pod, an expired decision), only their
// IDs; the first evaluation reads each once. Over the same evidence (an
// index and one of its platforms, evidence about both, evidence that does
// not verify, is signed without the role, is about a platform, is of a
// type the policy does not read, the gate's own records, and bundles sent
// with the request) it decides exactly as a gate that reads every record
// with List, with or without a cache.
func TestWarmMissReadsNoCachedBundle(t *testing.T) {
	f := newFixture(t)
	plat := attesttest.Subject("app", []byte("the arm64 manifest"))
	approval := func(k *keys.PrivateKey, comment string, subjects ...attest.Subject) *attest.Verified {
		a, err := gate.NewApproval(f.digest, "prod", comment, now.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return attesttest.Verified(t, k, gate.ApprovalPredicateType, a, subjects...)
	}
	stored := []*attest.Verified{
		approval(f.alice, "alice", f.art),
		approval(f.bob, "both", f.art, plat),  // listed for the index and the platform
		approval(f.bob, "platform", plat),     // about the platform: ignored
		approval(f.eve, "eve", f.art),         // untrusted key: does not verify
		approval(f.builder, "builder", f.art), // no approver role
		attesttest.Verified(t, f.alice, "https://example.com/other/v1", map[string]any{"x": 1}, f.art),
	}
	for _, v := range stored {
		if _, err := f.st.Put(t.Context(), v); err != nil {
			t.Fatal(err)
		}
	}
	sent := approval(f.alice, "sent", f.art)
	req := gate.Request{Artifact: policy.Artifact{Digest: f.digest, Name: "app"}, Environment: "prod", Requester: "ci",
		Bundles: [][]byte{stored[0].Raw, sent.Raw}}
	platforms := platformList{ps: []gate.Platform{{Digest: attesttest.Digest(plat), Name: "linux/arm64"}}}
	open := func(st store.Store, cache int64) *gate.Gate {
		g, err := gate.New(st, f.trust, map[string]*policy.Policy{"prod": approvalsPolicy(t)}, f.gateKey,
			gate.WithClock(func() time.Time { return now }), gate.WithIndexResolver(platforms), gate.WithVerifiedCache(cache))
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	evaluate := func(g *gate.Gate) *gate.Result {
		t.Helper()
		res, err := g.Evaluate(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	reads := &readCounter{}
	sq := f.st.(*sqlite.Store)
	byID := open(idStore{listOnlyStore{sq, reads}}, 1<<20)
	cold := evaluate(byID)
	if n := reads.take(); n != len(stored) { // "both" is listed twice, read once
		t.Errorf("cold: read %d bundles, want %d", n, len(stored))
	}
	if len(cold.Input.Evidence.Approvals) != 3 || len(cold.Input.Ignored) != 4 {
		t.Fatalf("cold: approvals %+v, ignored %+v; want alice's, bob's and the one sent; four ignored", cold.Input.Evidence.Approvals, cold.Input.Ignored)
	}
	for i := range 2 {
		warm := evaluate(byID)
		if n := reads.take(); n != 1 { // eve's, which did not verify and so is not cached
			t.Errorf("warm %d: read %d bundles, want 1 (the one that does not verify)", i, n)
		}
		if diff := cmp.Diff(asJSON(t, cold.Input), asJSON(t, warm.Input)); diff != "" {
			t.Errorf("warm %d: input differs from the cold evaluation's (-cold +warm):\n%s", i, diff)
		}
	}
	for _, c := range []struct {
		name  string
		cache int64
	}{{"List, no cache", 0}, {"List, cache", 1 << 20}} {
		g := open(listOnlyStore{sq, reads}, c.cache)
		for range 2 {
			res := evaluate(g)
			if diff := cmp.Diff(asJSON(t, cold.Input), asJSON(t, res.Input)); diff != "" {
				t.Errorf("%s: input differs (-by ID +%s):\n%s", c.name, c.name, diff)
			}
			if diff := cmp.Diff(asJSON(t, cold.Decision), asJSON(t, res.Decision)); diff != "" {
				t.Errorf("%s: decision differs (-by ID +%s):\n%s", c.name, c.name, diff)
			}
		}
	}
}
