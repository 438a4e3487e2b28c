package gate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sort"
	"strings"
	"sync"
	"time"
	"unique"

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
// cached bundle is not verified or read from JSON again; it keeps neither
// the bundle nor its statement (see checked), and keeps the result encoded
// in one byte slice the collector does not look into (cacheform.go), about
// 730 bytes for a small scan. Verifying
// the same bytes against the same trust file cannot give another result:
// entries are keyed on the bundle's SHA-256, a cache serves one gate and so
// one trust file (another trust file makes another gate, with an empty
// cache), and roles are checked on every evaluation. Entries larger than
// an eighth of maxBytes are not kept. 0 (the default) verifies every time.
// The bound counts the entries' estimated heap (footprint), which the
// collector has to fit under the process's memory limit with everything
// else.
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
	kinds   map[string]kind // how each predicate type is read (kinds())
	max     int64           // 0: no cache

	codec *codec
	mu    sync.Mutex // guards cache and bytes
	cache *verifiedLRU
	bytes int64
}

// bundleKey is a cache key: the SHA-256 of a bundle's exact bytes. A
// verifier checks against one trust file's keys for its whole life (a new
// trust file means a new gate, so a new cache), so the digest alone keys
// a result. It holds no pointer, so the collector does not trace the
// keys of a large cache.
type bundleKey [sha256.Size]byte

// keyOf returns the key of the bundle whose ID is id ("sha256:<hex>"), or
// false for an ID of another form.
func keyOf(id string) (bundleKey, bool) {
	var k bundleKey
	h, ok := strings.CutPrefix(id, "sha256:")
	if !ok || len(h) != hex.EncodedLen(len(k)) {
		return k, false
	}
	if _, err := hex.Decode(k[:], []byte(h)); err != nil {
		return k, false
	}
	return k, true
}

// checked is what the gate keeps of one bundle verified against the trust
// file: the facts an evaluation reads (ID, predicate type, signers,
// subjects, verified times and log entries) and the predicate read into
// policy input, read once when the bundle is verified. It does not keep
// the bundle, its payload or the parsed statement (whose predicate is a
// tree of protobuf Struct values): with them an entry took ten times the
// bundle's size, and a cache of the warm evidence of a busy server
// outgrew serve's memory limit, so the collector ran without pause. Only
// a provenance keeps its DSSE PAE, which TEE quotes bind to (addTEE).
// A checked is immutable once built and shared by concurrent evaluations.
type checked struct {
	id            string
	predicateType string
	signerIDs     []string            // attest.Verified.SignerIDs: sorted
	certificate   *attest.Certificate // nil for a bundle signed with a key
	subjects      []subjectDigest     // every digest of every subject, subjects by name
	time          time.Time           // earliest verified timestamp; zero without
	timestamped   bool
	logged        bool
	pae           []byte // the signed PAE, of provenance only

	pred any   // kind.read's result; nil for types that are not policy input
	err  error // kind.read's error
}

// subjectDigest is one digest of a statement subject, hex in lower case.
type subjectDigest struct{ alg, hex string }

// newChecked keeps of v what evaluations need, reading its predicate with
// the kind of its predicate type (none for types the policy does not read).
func newChecked(v *attest.Verified, ks map[string]kind) *checked {
	c := &checked{
		id: v.ID, predicateType: interned(v.PredicateType), signerIDs: v.SignerIDs(), certificate: v.Certificate,
		time: v.Time, timestamped: len(v.Timestamps) > 0, logged: v.LogEntries > 0,
	}
	for i, id := range c.signerIDs {
		c.signerIDs[i] = interned(id)
	}
	if c.certificate != nil {
		cert := *c.certificate
		c.certificate = &cert
	}
	for _, s := range v.Subjects() {
		algs := make([]string, 0, len(s.Digest))
		for alg := range s.Digest {
			algs = append(algs, alg)
		}
		sort.Strings(algs)
		for _, alg := range algs {
			c.subjects = append(c.subjects, subjectDigest{alg: interned(alg), hex: strings.ToLower(s.Digest[alg])})
		}
	}
	if k, ok := ks[v.PredicateType]; ok && k.read != nil {
		c.pred, c.err = k.read(v)
		if k.name == "provenance" {
			c.pae = v.PAE()
		}
	}
	return c
}

// interned returns s backed by one copy per process: predicate types, key
// IDs and algorithm names repeat in every entry of a cache, and one copy
// each leaves the collector fewer objects to mark.
func interned(s string) string { return unique.Make(s).Value() }

// hasDigest reports whether some subject has digest alg:hexValue (hex in
// any case), as attest.Verified.HasDigest does.
func (c *checked) hasDigest(alg, hexValue string) bool {
	want := strings.ToLower(hexValue)
	for _, d := range c.subjects {
		if d.alg == alg && d.hex == want {
			return true
		}
	}
	return false
}

// subjectsIn returns the subjects' digests of algorithm alg as "alg:hex",
// subjects in name order.
func (c *checked) subjectsIn(alg string) []string {
	var out []string
	for _, d := range c.subjects {
		if d.alg == alg && d.hex != "" {
			out = append(out, alg+":"+d.hex)
		}
	}
	return out
}

func newVerifier(trusted *attest.KeySet, ks map[string]kind, maxBytes int64, opts ...attest.VerifyOption) (*verifier, error) {
	v := &verifier{trusted: trusted, kinds: ks, max: maxBytes, opts: append([]attest.VerifyOption{}, opts...)}
	if maxBytes == 0 {
		return v, nil
	}
	k, err := newCodec()
	if err != nil {
		return nil, err
	}
	v.codec, v.cache = k, newVerifiedLRU()
	return v, nil
}

// caching reports whether v keeps verification results.
func (v *verifier) caching() bool { return v.max > 0 }

// get returns the cached result for the bundle whose SHA-256 is id, a
// value of the caller's own when the cache keeps it encoded.
func (v *verifier) get(id string) (*checked, bool) {
	if v.max == 0 {
		return nil, false
	}
	key, ok := keyOf(id)
	if !ok {
		return nil, false
	}
	v.mu.Lock()
	e, ok := v.cache.get(key)
	v.mu.Unlock()
	switch {
	case !ok:
		return nil, false
	case e.value != nil:
		return e.value, true
	}
	c, err := v.codec.decode(id, e.form)
	if err != nil {
		return nil, false // encode checked the round trip; verify afresh if it ever fails
	}
	return c, true
}

func (v *verifier) add(id string, c *checked) {
	if v.max == 0 {
		return
	}
	key, ok := keyOf(id)
	if !ok {
		return
	}
	e := cacheEntry{value: c}
	if f, ok := v.codec.encode(c); ok {
		e = cacheEntry{form: f}
	}
	e.size = e.footprint()
	if e.size > v.max/8 {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.cache.contains(key) {
		return
	}
	v.cache.add(key, e)
	v.bytes += e.size
	for v.bytes > v.max {
		old, ok := v.cache.removeOldest()
		if !ok {
			break
		}
		v.bytes -= old.size
	}
}

// verify returns raw verified against the trust file. The cache is looked
// up by the digest of raw itself, never by a name the caller gives it, so
// bytes that are not those of a cached result are verified afresh. (gather
// looks stored records up by ID, the digest the store was given with
// their bytes, and reads only the bytes of those the cache lacks.)
func (v *verifier) verify(ctx context.Context, raw []byte) (*checked, error) {
	id := digest.Sum256(raw).String()
	if got, ok := v.get(id); ok {
		return got, nil
	}
	got, err := attest.Verify(ctx, raw, v.trusted, append([]attest.VerifyOption{attest.WithInputName(id)}, v.opts...)...)
	if err != nil {
		return nil, err
	}
	c := newChecked(got, v.kinds)
	v.add(id, c)
	return c, nil
}

// remember caches ev if every signer it claims is a key of the trust file,
// with its predicate read into policy input.
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
		v.add(id, newChecked(ev, v.kinds))
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
	g.verifier.remember(ev)
}
