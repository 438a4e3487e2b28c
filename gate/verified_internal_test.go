package gate

import (
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/keys"
)

// TestVerifiedCacheStaysWithinItsBytes: the cache evicts the least
// recently used results to stay under its bound and never keeps a bundle
// larger than an eighth of it.
func TestVerifiedCacheStaysWithinItsBytes(t *testing.T) {
	k := attesttest.Key(t, keys.Ed25519)
	bundle := func(i, pad int) []byte {
		return attesttest.Bundle(t, k, "https://example.com/p/v1", map[string]any{"i": i, "pad": strings.Repeat("x", pad)}, attesttest.Subject("a", []byte("a")))
	}
	one := footprint(&attest.Verified{Raw: bundle(0, 1000)})
	v, err := newVerifier(attest.NewKeySet(k.Public()), 10*one)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 40)
	for i := range ids {
		raw := bundle(i, 1000)
		c, err := v.verify(t.Context(), raw)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = digest.Sum256(raw).String()
		if v.bytes > v.max {
			t.Fatalf("after %d results the cache holds %d bytes, over its %d", i+1, v.bytes, v.max)
		}
		if _, ok := v.get(ids[i]); !ok {
			t.Fatalf("result %d (%d bytes) not kept", i, footprint(c.v))
		}
	}
	if _, ok := v.get(ids[0]); ok {
		t.Error("the oldest result survived 40 additions to a cache of about 10")
	}
	big := bundle(99, int(v.max))
	if _, err := v.verify(t.Context(), big); err != nil {
		t.Fatal(err)
	}
	if _, ok := v.get(digest.Sum256(big).String()); ok {
		t.Error("a bundle larger than an eighth of the cache was kept")
	}
}
