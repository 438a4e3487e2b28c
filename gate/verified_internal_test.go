package gate

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/vuln"
)

// TestVerifiedCacheStaysWithinItsBytes: the cache evicts the least
// recently used results to stay under its bound and never keeps an entry
// larger than an eighth of it.
func TestVerifiedCacheStaysWithinItsBytes(t *testing.T) {
	k := attesttest.Key(t, keys.Ed25519)
	art := attesttest.Subject("a", []byte("a"))
	bundle := func(i, pad int) []byte {
		a, err := NewApproval(attesttest.Digest(art), "prod", fmt.Sprintf("%d %s", i, strings.Repeat("x", pad)), time.Unix(0, 0))
		if err != nil {
			t.Fatal(err)
		}
		return attesttest.Bundle(t, k, ApprovalPredicateType, a, art)
	}
	probe, err := newVerifier(attest.NewKeySet(k.Public()), kinds(), 0)
	if err != nil {
		t.Fatal(err)
	}
	c, err := probe.verify(t.Context(), bundle(0, 1000))
	if err != nil {
		t.Fatal(err)
	}
	one := footprint(c)
	v, err := newVerifier(attest.NewKeySet(k.Public()), kinds(), 10*one)
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
		_ = c
		ids[i] = digest.Sum256(raw).String()
		if v.bytes > v.max {
			t.Fatalf("after %d results the cache holds %d bytes, over its %d", i+1, v.bytes, v.max)
		}
		if _, ok := v.get(ids[i]); !ok {
			t.Fatalf("result %d not kept", i)
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
		t.Error("an entry larger than an eighth of the cache was kept")
	}
}

// maxObjectsPerEntry bounds the heap objects of one cached small scan: 1.1
// encoded (cacheform.go), 9.4 as Go values with interned strings and
// array keys, 13.3 before.
const maxObjectsPerEntry = 2

// TestVerifiedCacheEntryHeap measures the heap the cache holds per entry
// with runtime.MemStats over thousands of small vulnerability scans and
// approvals (the serve benchmark's evidence), with nothing else holding
// the bundles: an entry must stay small (it once kept the bundle, its
// payload and a protobuf Struct tree, about 10 KB for a 1.6 KB bundle,
// which made a warm cache outgrow serve's memory limit), and footprint,
// which the cache's bound counts, must be within a factor of the truth.
func TestVerifiedCacheEntryHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("signs thousands of bundles")
	}
	scanner := attesttest.Key(t, keys.Ed25519)
	v, err := newVerifier(attest.NewKeySet(scanner.Public()), kinds(), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	bundle := func(i int) []byte {
		art := attesttest.Subject(fmt.Sprintf("registry.local/bench/app-%d", i/10), fmt.Appendf(nil, "artifact %d", i/10))
		if i%10 == 0 {
			a, err := NewApproval(attesttest.Digest(art), "prod", "bench", at)
			if err != nil {
				t.Fatal(err)
			}
			return attesttest.Bundle(t, scanner, ApprovalPredicateType, a, art)
		}
		p := vuln.VulnsPredicate{
			Scanner: vuln.PredicateScanner{URI: "https://hallmark.dev/scanners/vuln", DB: vuln.PredicateDB{LastUpdate: at},
				Result: []vuln.PredicateResult{{ID: fmt.Sprintf("GHSA-bench-%d", i), Severity: []vuln.PredicateSeverity{{Method: "hallmark", Score: "low"}}}}},
			Metadata: vuln.PredicateMetadata{ScanStartedOn: at, ScanFinishedOn: at.Add(time.Duration(i) * time.Millisecond)},
		}
		return attesttest.Bundle(t, scanner, vuln.PredicateType, p, art)
	}
	const n = 3000
	var bundleBytes int
	heap := func() (bytes, objects uint64) {
		var ms runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc, ms.HeapObjects
	}
	before, beforeObjects := heap()
	for i := range n {
		raw := bundle(i)
		bundleBytes += len(raw)
		c, err := v.verify(t.Context(), raw)
		if err != nil {
			t.Fatal(err)
		}
		if c.err != nil || c.pred == nil {
			t.Fatalf("bundle %d: predicate not read: %v", i, c.err)
		}
	}
	after, afterObjects := heap()
	runtime.KeepAlive(v)
	if v.cache.len() != n {
		t.Fatalf("cache holds %d entries, want %d", v.cache.len(), n)
	}
	measured := float64(after-before) / n
	estimated := float64(v.bytes) / n
	objects := float64(afterObjects-beforeObjects) / n
	t.Logf("%d entries: %.0f bytes of heap each (footprint estimates %.0f) in %.1f objects; bundles %d bytes each", n, measured, estimated, objects, bundleBytes/n)
	// Every collection marks each object of a full cache: a server's
	// pauses between reviews grow with their number (docs/server.md).
	if objects > maxObjectsPerEntry {
		t.Errorf("a cached small scan holds %.1f heap objects, want at most %d", objects, maxObjectsPerEntry)
	}
	if measured > 2048 {
		t.Errorf("a cached small scan holds %.0f bytes of heap, want at most 2 KiB (the bundle is %d bytes)", measured, bundleBytes/n)
	}
	if estimated < measured*0.8 || estimated > measured*2 {
		t.Errorf("footprint estimates %.0f bytes per entry, the heap grew %.0f: the cache's bound would not mean what it says", estimated, measured)
	}
}

// TestCacheKeyOf: a cache key is the bundle's SHA-256 read from its ID;
// an ID of another form has none, so it is never cached or found.
func TestCacheKeyOf(t *testing.T) {
	raw := []byte("a bundle")
	k, ok := keyOf(digest.Sum256(raw).String())
	if !ok || k != bundleKey(sha256.Sum256(raw)) {
		t.Fatalf("keyOf(%s) = %x, %v; want the bundle's SHA-256", digest.Sum256(raw), k, ok)
	}
	for _, id := range []string{"", "sha256:", "sha256:" + strings.Repeat("a", 63), "sha256:" + strings.Repeat("g", 64),
		"sha512:" + strings.Repeat("a", 64), "SHA256:" + strings.Repeat("a", 64)} {
		if _, ok := keyOf(id); ok {
			t.Errorf("keyOf(%q) gave a key", id)
		}
	}
}

// TestVerifiedCacheKeepsPlainDataEncoded: approvals and scans are kept as
// one byte slice each (cacheform.go), which the collector does not look
// into, and what the cache gives back is what verification gave, field by
// field, times with their offsets.
func TestVerifiedCacheKeepsPlainDataEncoded(t *testing.T) {
	k := attesttest.Key(t, keys.Ed25519)
	v, err := newVerifier(attest.NewKeySet(k.Public()), kinds(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 6, 9, 30, 0, 123, time.FixedZone("", 3600))
	art := attesttest.Subject("registry.local/app", []byte("app"))
	a, err := NewApproval(attesttest.Digest(art), "prod", "ok", at)
	if err != nil {
		t.Fatal(err)
	}
	scan := vuln.VulnsPredicate{
		Scanner: vuln.PredicateScanner{URI: "https://hallmark.dev/scanners/vuln", DB: vuln.PredicateDB{LastUpdate: at}, Result: []vuln.PredicateResult{
			{ID: "GHSA-1", Severity: []vuln.PredicateSeverity{{Method: "hallmark", Score: "critical"}}},
			{ID: "GO-2", Severity: []vuln.PredicateSeverity{{Method: "hallmark", Score: "low"}}},
		}},
		Metadata: vuln.PredicateMetadata{ScanStartedOn: at, ScanFinishedOn: at.Add(time.Second)},
	}
	for _, raw := range [][]byte{
		attesttest.Bundle(t, k, ApprovalPredicateType, a, art),
		attesttest.Bundle(t, k, vuln.PredicateType, scan, art),
	} {
		want, err := v.verify(t.Context(), raw)
		if err != nil {
			t.Fatal(err)
		}
		if want.pred == nil || want.err != nil {
			t.Fatalf("%s: predicate not read: %v", want.predicateType, want.err)
		}
		key, _ := keyOf(want.id)
		if e, ok := v.cache.get(key); !ok || e.value != nil {
			t.Fatalf("%s: kept encoded = %v, want an encoded entry", want.predicateType, ok && e.value == nil)
		}
		got, ok := v.get(want.id)
		if !ok {
			t.Fatalf("%s: not found in the cache", want.predicateType)
		}
		if !sameChecked(want, got) || got == want {
			t.Errorf("%s: the cache gave back %+v, verification gave %+v", want.predicateType, got, want)
		}
		if got, want := fmt.Sprint(got.pred), fmt.Sprint(want.pred); got != want {
			t.Errorf("decoded predicate %s, want %s", got, want)
		}
	}
}

// TestPlainData: what the cache may keep encoded, and what it keeps as Go
// values because the encoding would lose or change it.
func TestPlainData(t *testing.T) {
	type recursive struct {
		Name     string
		Children []recursive
	}
	type withUnexported struct {
		Name string
		note string
	}
	type withAny struct{ Value any }
	type skipped struct {
		Name string
		Memo string `json:"-"`
	}
	for _, c := range []struct {
		t    reflect.Type
		want bool
	}{
		{reflect.TypeFor[*policy.VulnScan](), true},
		{reflect.TypeFor[*Approval](), true}, // digest.Digest is written as text
		{reflect.TypeFor[time.Time](), true},
		{reflect.TypeFor[map[string][]int](), true},
		{reflect.TypeFor[recursive](), true},
		{reflect.TypeFor[withUnexported](), false},
		{reflect.TypeFor[withAny](), false},
		{reflect.TypeFor[skipped](), false},
		{reflect.TypeFor[map[int]string](), false},
		{reflect.TypeFor[func()](), false},
	} {
		if got := plainData(c.t, map[reflect.Type]bool{}); got != c.want {
			t.Errorf("plainData(%v) = %v, want %v", c.t, got, c.want)
		}
	}
}

// TestCacheFormRoundTrip: every field of a checked survives the cache's
// encoding, a keyless signer's certificate, a verified time with its
// offset and a provenance's PAE among them; a truncated entry is an
// error, never a panic or a result.
func TestCacheFormRoundTrip(t *testing.T) {
	k, err := newCodec()
	if err != nil {
		t.Fatal(err)
	}
	c := &checked{
		id: "sha256:" + strings.Repeat("ab", 32), predicateType: ApprovalPredicateType, signerIDs: []string{"k1", "k2"},
		certificate: &attest.Certificate{CertificateIssuer: "CN=sigstore-intermediate", SubjectAlternativeName: "https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1"},
		subjects:    []subjectDigest{{alg: "sha256", hex: strings.Repeat("0f", 32)}, {alg: "sha512", hex: strings.Repeat("1e", 64)}},
		time:        time.Date(2026, 12, 7, 5, 0, 0, 42, time.FixedZone("CET", 3600)), timestamped: true, logged: true,
		pae:  []byte("DSSEv1 ..."),
		pred: &Approval{Artifact: digest.MustParse("sha256:" + strings.Repeat("0f", 32)), Environment: "prod", Comment: "ok", ApprovedAt: time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC)},
	}
	c.certificate.Extensions.SourceRepositoryURI = "https://github.com/o/r"
	e, ok := k.encode(c)
	if !ok {
		t.Fatal("a checked of plain data was not encoded")
	}
	got, err := k.decode(c.id, e)
	if err != nil {
		t.Fatal(err)
	}
	if !sameChecked(c, got) {
		t.Errorf("round trip gave %+v, want %+v", got, c)
	}
	if got.time.Format(time.RFC3339Nano) != "2026-12-07T05:00:00.000000042+01:00" {
		t.Errorf("time came back as %s", got.time.Format(time.RFC3339Nano))
	}
	for n := range e.split {
		cut := encoded{data: e.data[:n], split: n, predType: e.predType}
		if _, err := k.decode(c.id, cut); err == nil {
			t.Fatalf("a header cut to %d of %d bytes decoded", n, e.split)
		}
	}
	c.err = errors.New("unreadable predicate")
	if _, ok := k.encode(c); ok {
		t.Error("a result with a read error was encoded: the error would be lost")
	}
}

// TestVerifiedLRUOrder: a lookup makes an entry the most recently used,
// the least recently used goes first, and a removed entry's slot is
// reused.
func TestVerifiedLRUOrder(t *testing.T) {
	l := newVerifiedLRU()
	key := func(i byte) bundleKey { return bundleKey{i} }
	for i := range byte(3) {
		l.add(key(i), cacheEntry{size: int64(i)})
	}
	if _, ok := l.get(key(0)); !ok {
		t.Fatal("entry 0 not found")
	}
	var order []int64
	for l.len() > 0 {
		e, _ := l.removeOldest()
		order = append(order, e.size)
	}
	if !slices.Equal(order, []int64{1, 2, 0}) {
		t.Errorf("removed in order %v, want [1 2 0] (0 was looked up last)", order)
	}
	if _, ok := l.removeOldest(); ok {
		t.Error("an empty list removed an entry")
	}
	l.add(key(9), cacheEntry{size: 9})
	if len(l.slots) != 3 || !l.contains(key(9)) || l.contains(key(0)) {
		t.Errorf("after reuse: %d slots, 9 kept %v, 0 kept %v; want 3 slots, 9 only", len(l.slots), l.contains(key(9)), l.contains(key(0)))
	}
}
