// Package storetest is the conformance suite every store.Store
// implementation runs, so SQLite and PostgreSQL answer the same questions
// the same way.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/store"
)

// Opener returns an empty store whose StoredAt times come from now.
type Opener func(t *testing.T, now func() time.Time) store.Store

// clock is a manual clock the suite advances between writes.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const (
	typeA = "https://example.com/a/v1"
	typeB = "https://example.com/b/v1"
)

// Run runs the conformance suite against stores made by open.
func Run(t *testing.T, open Opener) {
	k1 := attesttest.Key(t, keys.ECDSAP256)
	k2 := attesttest.Key(t, keys.Ed25519)
	subX := attesttest.Subject("x", []byte("artifact x"))
	subY := attesttest.Subject("y", []byte("artifact y"))

	t.Run("PutGetList", func(t *testing.T) {
		c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		s := open(t, c.now)
		v1 := attesttest.Verified(t, k1, typeA, map[string]any{"n": 1}, subX)
		c.advance(time.Hour)
		v2 := attesttest.Verified(t, k2, typeB, map[string]any{"n": 2}, subX, subY)
		r1, err := s.Put(t.Context(), v1)
		if err != nil {
			t.Fatal(err)
		}
		c.advance(time.Hour)
		r2, err := s.Put(t.Context(), v2)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(t.Context(), v1.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(r1, got, cmp.AllowUnexported()); diff != "" {
			t.Errorf("Get differs from Put (-put +get):\n%s", diff)
		}
		if string(got.Bundle) != string(v1.Raw) {
			t.Error("bundle bytes changed in storage")
		}
		for _, tc := range []struct {
			name string
			q    store.Query
			want []string
		}{
			{"all", store.Query{}, []string{r1.ID, r2.ID}},
			{"subject x", store.Query{Subject: attesttest.Digest(subX)}, []string{r1.ID, r2.ID}},
			{"subject y", store.Query{Subject: attesttest.Digest(subY)}, []string{r2.ID}},
			{"type a", store.Query{PredicateType: typeA}, []string{r1.ID}},
			{"signer k2", store.Query{Signer: k2.Public().ID()}, []string{r2.ID}},
			{"exclude type b", store.Query{Subject: attesttest.Digest(subX), ExcludePredicateTypes: []string{typeB}}, []string{r1.ID}},
			{"exclude both types", store.Query{ExcludePredicateTypes: []string{typeB, typeA}}, nil},
			{"exclude another type", store.Query{ExcludePredicateTypes: []string{"https://example.com/none"}}, []string{r1.ID, r2.ID}},
			{"since", store.Query{Since: r2.StoredAt}, []string{r2.ID}},
			{"until", store.Query{Until: r2.StoredAt}, []string{r1.ID}},
			{"limit", store.Query{Limit: 1}, []string{r1.ID}},
			{"no match", store.Query{PredicateType: "https://example.com/none"}, nil},
			{"combined", store.Query{Subject: attesttest.Digest(subX), Signer: k1.Public().ID()}, []string{r1.ID}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				recs, err := s.List(t.Context(), tc.q)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tc.want, ids(recs)); diff != "" {
					t.Errorf("List(%+v) (-want +got):\n%s", tc.q, diff)
				}
			})
		}
		recs, _ := s.List(t.Context(), store.Query{PredicateType: typeB})
		if len(recs) != 1 || len(recs[0].Subjects) != 2 || recs[0].Signers[0] != k2.Public().ID() {
			t.Errorf("record facts wrong: %+v", recs)
		}
	})

	t.Run("Newest", func(t *testing.T) {
		c := &clock{t: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)}
		s := open(t, c.now)
		put := func(v *attest.Verified) store.Record {
			t.Helper()
			r, err := s.Put(t.Context(), v)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		r1 := put(attesttest.Verified(t, k1, typeA, map[string]any{"n": 1}, subX))
		c.advance(time.Hour)
		// Two records stored at the same instant: ID breaks the tie, in
		// reverse when newest first.
		r2 := put(attesttest.Verified(t, k1, typeA, map[string]any{"n": 2}, subX))
		r3 := put(attesttest.Verified(t, k2, typeB, map[string]any{"n": 3}, subY))
		lo, hi := r2.ID, r3.ID
		if hi < lo {
			lo, hi = hi, lo
		}
		c.advance(time.Hour)
		r4 := put(attesttest.Verified(t, k2, typeA, map[string]any{"n": 4}, subY))
		for _, tc := range []struct {
			name string
			q    store.Query
			want []string
		}{
			{"oldest first", store.Query{}, []string{r1.ID, lo, hi, r4.ID}},
			{"newest first", store.Query{Newest: true}, []string{r4.ID, hi, lo, r1.ID}},
			{"newest with limit", store.Query{Newest: true, Limit: 2}, []string{r4.ID, hi}},
			{"newest limit splits a tie", store.Query{Newest: true, Limit: 3}, []string{r4.ID, hi, lo}},
			{"oldest with limit", store.Query{Limit: 2}, []string{r1.ID, lo}},
			{"newest of a type", store.Query{Newest: true, PredicateType: typeA}, []string{r4.ID, r2.ID, r1.ID}},
			{"newest of a type with limit", store.Query{Newest: true, PredicateType: typeA, Limit: 1}, []string{r4.ID}},
			{"newest of a subject", store.Query{Newest: true, Subject: attesttest.Digest(subX)}, []string{r2.ID, r1.ID}},
			{"newest until", store.Query{Newest: true, Until: r4.StoredAt, Limit: 1}, []string{hi}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				recs, err := s.List(t.Context(), tc.q)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tc.want, ids(recs)); diff != "" {
					t.Errorf("List(%+v) (-want +got):\n%s", tc.q, diff)
				}
			})
		}
		recs, err := s.List(t.Context(), store.Query{Newest: true, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 1 || len(recs[0].Subjects) != 1 || len(recs[0].Signers) != 1 || string(recs[0].Bundle) == "" {
			t.Errorf("newest record lacks its facts: %+v", recs)
		}
	})

	t.Run("PutIsIdempotent", func(t *testing.T) {
		c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		s := open(t, c.now)
		v := attesttest.Verified(t, k1, typeA, map[string]any{}, subX)
		first, err := s.Put(t.Context(), v)
		if err != nil {
			t.Fatal(err)
		}
		c.advance(time.Minute)
		again, err := s.Put(t.Context(), v)
		if err != nil {
			t.Fatal(err)
		}
		if !again.StoredAt.Equal(first.StoredAt) {
			t.Errorf("second Put changed StoredAt: %v -> %v", first.StoredAt, again.StoredAt)
		}
		recs, _ := s.List(t.Context(), store.Query{})
		if len(recs) != 1 {
			t.Errorf("%d records after storing one bundle twice", len(recs))
		}
	})

	t.Run("PutAllIsAtomic", func(t *testing.T) {
		s := open(t, time.Now)
		b, ok := s.(store.Batcher)
		if !ok {
			t.Skip("this store does not batch")
		}
		v1 := attesttest.Verified(t, k1, typeA, map[string]any{"a": 1}, subX)
		v2 := attesttest.Verified(t, k2, typeB, map[string]any{"b": 2}, subY)
		recs, err := b.PutAll(t.Context(), []*attest.Verified{v1, v2})
		if err != nil || len(recs) != 2 || recs[0].ID != v1.ID || recs[1].ID != v2.ID {
			t.Fatalf("PutAll: %v %+v", err, recs)
		}
		// A batch with a nil entry fails whole: the new bundle in it is not stored.
		v3 := attesttest.Verified(t, k1, typeA, map[string]any{"c": 3}, subX)
		if _, err := b.PutAll(t.Context(), []*attest.Verified{v3, nil}); err == nil {
			t.Fatal("PutAll with a nil entry succeeded")
		}
		if _, err := s.Get(t.Context(), v3.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a failed batch left part of itself stored: %v", err)
		}
		again, err := b.PutAll(t.Context(), []*attest.Verified{v2, v3})
		if err != nil || again[0].StoredAt.IsZero() || again[1].ID != v3.ID {
			t.Fatalf("PutAll with an existing bundle: %v %+v", err, again)
		}
	})

	t.Run("UpperCaseSubject", func(t *testing.T) {
		// A signed subject may spell its hex in upper case; the store keeps
		// it in lower case, the one spelling a digest.Digest has.
		s := open(t, time.Now)
		up := attest.Subject{Name: "z", Digest: map[string]string{"sha256": upper(subY.Digest["sha256"])}}
		r, err := s.Put(t.Context(), attesttest.Verified(t, k1, typeA, map[string]any{"n": 3}, up))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := s.List(t.Context(), store.Query{Subject: attesttest.Digest(subY)})
		if err != nil || len(recs) != 1 || recs[0].ID != r.ID {
			t.Errorf("List by the lower-case digest = %v, %v; want %s", recs, err, r.ID)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		s := open(t, time.Now)
		d, ok := s.(store.Deleter)
		if !ok {
			t.Fatal("store does not implement store.Deleter")
		}
		v1 := attesttest.Verified(t, k1, typeA, map[string]any{"d": 1}, subX, subY)
		v2 := attesttest.Verified(t, k2, typeB, map[string]any{"d": 2}, subX)
		v3 := attesttest.Verified(t, k1, typeA, map[string]any{"d": 3}, subY)
		for _, v := range []*attest.Verified{v1, v2, v3} {
			if _, err := s.Put(t.Context(), v); err != nil {
				t.Fatal(err)
			}
		}
		n, err := d.Delete(t.Context(), []string{v1.ID, "sha256:" + strings.Repeat("0", 64), v3.ID})
		if err != nil || n != 2 {
			t.Fatalf("Delete = %d, %v; want 2 removed (the unknown ID skipped)", n, err)
		}
		for _, id := range []string{v1.ID, v3.ID} {
			if _, err := s.Get(t.Context(), id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Get(%s) after Delete: %v, want ErrNotFound", id, err)
			}
		}
		// What is left answers every query as if the deleted were never
		// stored: no subject or signer row of theirs is left behind.
		for _, q := range []store.Query{{}, {Subject: attesttest.Digest(subX)}, {Subject: attesttest.Digest(subY)}, {Signer: k1.Public().ID()}, {PredicateType: typeA}} {
			recs, err := s.List(t.Context(), q)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			if q.Subject != attesttest.Digest(subY) && q.Signer == "" && q.PredicateType == "" {
				want = []string{v2.ID}
			}
			if diff := cmp.Diff(want, ids(recs)); diff != "" {
				t.Errorf("List(%+v) after Delete (-want +got):\n%s", q, diff)
			}
			if il, ok := s.(store.IDLister); ok {
				got, err := il.ListIDs(t.Context(), q)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("ListIDs(%+v) after Delete (-want +got):\n%s", q, diff)
				}
			}
		}
		if n, err := d.Delete(t.Context(), nil); err != nil || n != 0 {
			t.Errorf("Delete(nil) = %d, %v", n, err)
		}
		// A deleted bundle can be stored again.
		if _, err := s.Put(t.Context(), v1); err != nil {
			t.Errorf("Put after Delete: %v", err)
		}
		if c, ok := s.(store.Checker); ok {
			if err := c.Check(t.Context()); err != nil {
				t.Errorf("Check after Delete: %v", err)
			}
		}
		if sz, ok := s.(store.Sizer); ok {
			if n, err := sz.Size(t.Context()); err != nil || n <= 0 {
				t.Errorf("Size = %d, %v", n, err)
			}
		}
		if c, ok := s.(store.Compacter); ok {
			if err := c.Compact(t.Context()); err != nil {
				t.Errorf("Compact: %v", err)
			}
			if got, err := s.Get(t.Context(), v2.ID); err != nil || string(got.Bundle) != string(v2.Raw) {
				t.Errorf("Get after Compact: %v", err)
			}
		}
	})

	t.Run("PackageIndex", func(t *testing.T) {
		s := open(t, time.Now)
		ix, ok := s.(store.PackageIndexer)
		if !ok {
			t.Fatal("store does not implement store.PackageIndexer")
		}
		subZ := attesttest.Subject("z", []byte("artifact z"))
		sbomX := attesttest.Verified(t, k1, typeA, map[string]any{"sbom": "x"}, subX)
		sbomY := attesttest.Verified(t, k1, typeA, map[string]any{"sbom": "y"}, subY)
		sbomZ := attesttest.Verified(t, k1, typeA, map[string]any{"sbom": "z"}, subZ)
		other := attesttest.Verified(t, k1, typeB, map[string]any{"other": 1}, subZ)
		for _, v := range []*attest.Verified{sbomX, sbomY, sbomZ, other} {
			if _, err := s.Put(t.Context(), v); err != nil {
				t.Fatal(err)
			}
		}
		unindexed := func() []string {
			t.Helper()
			got, err := ix.Unindexed(t.Context(), []string{typeA}, 10)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		want := []string{sbomX.ID, sbomY.ID, sbomZ.ID}
		slices.Sort(want)
		if diff := cmp.Diff(want, unindexed()); diff != "" {
			t.Errorf("Unindexed before indexing (-want +got):\n%s", diff)
		}
		gin, yaml, lodash := store.Package{Ecosystem: "Go", Name: "github.com/gin-gonic/gin"}, store.Package{Ecosystem: "Go", Name: "gopkg.in/yaml.v3"}, store.Package{Ecosystem: "npm", Name: "lodash"}
		err := ix.IndexPackages(t.Context(), map[string][]store.Package{
			sbomX.ID: {gin, yaml, gin},
			sbomY.ID: {lodash},
			sbomZ.ID: {yaml},
		})
		if err != nil {
			t.Fatal(err)
		}
		// Re-indexing replaces: Z no longer lists yaml.
		if err := ix.IndexPackages(t.Context(), map[string][]store.Package{sbomZ.ID: {}}); err != nil {
			t.Fatal(err)
		}
		if got := unindexed(); len(got) != 0 {
			t.Errorf("Unindexed after indexing: %v", got)
		}
		sub := func(s attest.Subject) string { return "sha256:" + s.Digest["sha256"] }
		sorted := func(ss ...string) []string { slices.Sort(ss); return ss }
		for _, tc := range []struct {
			name string
			pkgs []store.Package
			want []string
		}{
			{"one package", []store.Package{lodash}, []string{sub(subY)}},
			{"two artifacts", []store.Package{yaml, lodash}, sorted(sub(subX), sub(subY))},
			{"same name, other ecosystem", []store.Package{{Ecosystem: "PyPI", Name: "lodash"}}, nil},
			{"re-indexed away", []store.Package{{Ecosystem: "Go", Name: "gopkg.in/yaml.v3"}}, []string{sub(subX)}},
		} {
			got, err := ix.SubjectsWithPackages(t.Context(), tc.pkgs)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s: SubjectsWithPackages (-want +got):\n%s", tc.name, diff)
			}
		}
		none := "sha256:" + strings.Repeat("0", 64)
		got, err := ix.SubjectsIndexed(t.Context(), []string{sub(subZ), none, sub(subX)})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(sorted(sub(subX), sub(subZ)), got); diff != "" {
			t.Errorf("SubjectsIndexed (-want +got):\n%s", diff)
		}
		// Deleting a record drops its index rows.
		if _, err := s.(store.Deleter).Delete(t.Context(), []string{sbomY.ID}); err != nil {
			t.Fatal(err)
		}
		if got, err := ix.SubjectsWithPackages(t.Context(), []store.Package{lodash}); err != nil || len(got) != 0 {
			t.Errorf("after Delete: %v, %v", got, err)
		}
		if err := ix.IndexPackages(t.Context(), map[string][]store.Package{"sha256:" + strings.Repeat("1", 64): {lodash}}); err == nil {
			t.Error("indexing a record that is not stored succeeded")
		}
		if c, ok := s.(store.Checker); ok {
			if err := c.Check(t.Context()); err != nil {
				t.Error(err)
			}
		}
	})

	t.Run("ListIDs", func(t *testing.T) { listIDs(t, open, k1, k2) })

	t.Run("HotQueriesUseIndexes", func(t *testing.T) {
		hotQueriesUseIndexes(t, open(t, time.Now), k1)
	})

	t.Run("Errors", func(t *testing.T) {
		s := open(t, time.Now)
		if _, err := s.Get(t.Context(), "sha256:00"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get missing: %v, want ErrNotFound", err)
		}
	})

	t.Run("ResolvePrefix", func(t *testing.T) {
		s := open(t, time.Now)
		// Enough records that some share a 1-hex-digit prefix with another.
		var all []string
		for i := range 20 {
			r, err := s.Put(t.Context(), attesttest.Verified(t, k1, typeA, map[string]any{"n": i}, subX))
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, r.ID)
		}
		target := all[0]
		hexID := strings.TrimPrefix(target, "sha256:")
		for _, ref := range []string{target, hexID[:7], "sha256:" + hexID[:12], strings.ToUpper(hexID[:9]), "SHA256:" + hexID[:40]} {
			got, err := store.Resolve(t.Context(), s, ref)
			if err != nil || got != target {
				t.Errorf("Resolve(%q) = %q, %v; want %q", ref, got, err, target)
			}
		}
		if _, err := store.Resolve(t.Context(), s, hexID[:6]); !errors.Is(err, store.ErrBadQuery) {
			t.Errorf("6-digit prefix: %v, want ErrBadQuery", err)
		}
		if _, err := store.Resolve(t.Context(), s, "zz"+hexID[:8]); !errors.Is(err, store.ErrBadQuery) {
			t.Errorf("non-hex prefix: %v, want ErrBadQuery", err)
		}
		missing := "0000000"
		for _, id := range all {
			if strings.HasPrefix(id, "sha256:"+missing) {
				missing = "fffffff"
			}
		}
		if _, err := store.Resolve(t.Context(), s, missing); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown prefix: %v, want ErrNotFound", err)
		}
		// An ambiguous prefix lists its candidates, in order. Reach one by
		// asking the backend with a 1-digit prefix directly.
		p, ok := s.(store.Prefixer)
		if !ok {
			t.Fatal("store does not implement store.Prefixer")
		}
		for _, d := range "0123456789abcdef" {
			ids, err := p.IDsWithPrefix(t.Context(), "sha256:"+string(d), 10)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, id := range all {
				if strings.HasPrefix(id, "sha256:"+string(d)) {
					want = append(want, id)
				}
			}
			slices.Sort(want)
			if len(want) > 10 {
				want = want[:10]
			}
			if len(want) == 0 && len(ids) == 0 {
				continue
			}
			if diff := cmp.Diff(want, ids); diff != "" {
				t.Errorf("IDsWithPrefix(%c) (-want +got):\n%s", d, diff)
			}
		}
	})

	t.Run("ConcurrentPuts", func(t *testing.T) {
		s := open(t, time.Now)
		const n = 24
		vs := make([]*attest.Verified, n)
		for i := range vs {
			vs[i] = attesttest.Verified(t, k1, typeA, map[string]any{"i": i}, attesttest.Subject(fmt.Sprint(i), []byte(fmt.Sprint(i))))
		}
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for _, v := range vs {
			wg.Go(func() {
				if _, err := s.Put(t.Context(), v); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		recs, err := s.List(t.Context(), store.Query{})
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != n {
			t.Errorf("%d records after %d concurrent puts", len(recs), n)
		}
	})

	t.Run("ConcurrentPutAll", func(t *testing.T) {
		// Concurrent batches, some repeating stored evidence and some
		// from callers that already gave up: each batch gets its own
		// answer, and a caller that gave up has nothing stored.
		s := open(t, time.Now)
		b, ok := s.(store.Batcher)
		if !ok {
			t.Skip("store does not batch")
		}
		shared := attesttest.Verified(t, k2, typeB, map[string]any{"shared": true}, subY)
		if _, err := s.Put(t.Context(), shared); err != nil {
			t.Fatal(err)
		}
		const n = 32
		type batch struct {
			vs       []*attest.Verified
			canceled bool
		}
		batches := make([]batch, n)
		for i := range batches {
			sub := attesttest.Subject(fmt.Sprint("artifact-", i), []byte(fmt.Sprint(i)))
			vs := []*attest.Verified{
				attesttest.Verified(t, k1, typeA, map[string]any{"vsa": i}, sub),
				attesttest.Verified(t, k1, typeB, map[string]any{"decision": i}, sub),
			}
			if i%4 == 0 {
				vs = append(vs, shared)
			}
			batches[i] = batch{vs: vs, canceled: i%5 == 0}
		}
		results := make([][]store.Record, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i, bt := range batches {
			wg.Go(func() {
				ctx := t.Context()
				if bt.canceled {
					c, cancel := context.WithCancel(ctx)
					cancel()
					ctx = c
				}
				results[i], errs[i] = b.PutAll(ctx, bt.vs)
			})
		}
		wg.Wait()
		want := 1
		for i, bt := range batches {
			if bt.canceled {
				if errs[i] == nil {
					t.Errorf("batch %d: PutAll with a canceled context succeeded", i)
				}
				continue
			}
			if errs[i] != nil {
				t.Errorf("batch %d: %v", i, errs[i])
				continue
			}
			want += 2
			if got, wantIDs := ids(results[i]), verifiedIDs(bt.vs); !cmp.Equal(got, wantIDs) {
				t.Errorf("batch %d returned %v, want %v", i, got, wantIDs)
			}
			for j, r := range results[i] {
				if !cmp.Equal(r.Subjects, bt.vs[j].Subjects()) {
					t.Errorf("batch %d record %d subjects %v, want %v", i, j, r.Subjects, bt.vs[j].Subjects())
				}
			}
		}
		recs, err := s.List(t.Context(), store.Query{})
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != want {
			t.Errorf("%d records stored, want %d (canceled batches must store nothing)", len(recs), want)
		}
		for i, bt := range batches {
			if !bt.canceled {
				continue
			}
			for _, v := range bt.vs[:2] {
				if _, err := s.Get(t.Context(), v.ID); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("batch %d (canceled): Get %s = %v, want not found", i, v.ID, err)
				}
			}
		}
	})
}

func verifiedIDs(vs []*attest.Verified) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.ID)
	}
	return out
}

func ids(recs []store.Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.ID)
	}
	return out
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'f' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// hotQueriesUseIndexes checks the plans of the queries the gate (a miss
// gathers an artifact's evidence; decisions about an artifact), recheck
// (decisions a page at a time) and impact (the package index) make: none
// reads the evidence table whole, and those about one subject or package
// search its index, so their cost stays that of the rows they return
// however large the store grows (bench/store's scale command measures them
// at 1,000,000 records). The store holds a few records per artifact and
// has fresh statistics (Compact); a store whose planner prefers reading
// small tables whole is opened so that it does not (PostgreSQL's
// enable_seqscan=off in its conformance test), so the plan shows whether
// an index can serve the query.
func hotQueriesUseIndexes(t *testing.T, s store.Store, k *keys.PrivateKey) {
	ex, ok := s.(store.Explainer)
	if !ok {
		t.Fatal("store does not implement store.Explainer")
	}
	ix := s.(store.PackageIndexer)
	const decision = "https://example.com/decision/v1"
	var vs []*attest.Verified
	pkgs := map[string][]store.Package{}
	var subjects []string
	for i := range 40 {
		sub := attesttest.Subject(fmt.Sprint("app-", i), []byte(fmt.Sprint("artifact ", i)))
		subjects = append(subjects, "sha256:"+sub.Digest["sha256"])
		sbom := attesttest.Verified(t, k, typeA, map[string]any{"sbom": i}, sub)
		pkgs[sbom.ID] = []store.Package{{Ecosystem: "Go", Name: fmt.Sprint("example.com/mod", i%7)}}
		vs = append(vs, sbom,
			attesttest.Verified(t, k, typeB, map[string]any{"scan": i}, sub),
			attesttest.Verified(t, k, decision, map[string]any{"decision": i}, sub))
	}
	if _, err := s.(store.Batcher).PutAll(t.Context(), vs); err != nil {
		t.Fatal(err)
	}
	if err := ix.IndexPackages(t.Context(), pkgs); err != nil {
		t.Fatal(err)
	}
	if c, ok := s.(store.Compacter); ok {
		if err := c.Compact(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	subject := attesttest.Digest(attesttest.Subject("app-3", []byte("artifact 3")))
	bySubject := []string{"evidence_type_time", "evidence_time"}
	for _, c := range []check{
		{"miss: an artifact's evidence", func() (store.Plan, error) {
			return ex.ExplainList(t.Context(), store.Query{Subject: subject, ExcludePredicateTypes: []string{decision}})
		}, "subjects_digest|subjects primary key", bySubject},
		{"decisions about an artifact, newest first", func() (store.Plan, error) {
			return ex.ExplainList(t.Context(), store.Query{Subject: subject, PredicateType: decision, Newest: true, Limit: 10})
		}, "subjects_digest|subjects primary key", bySubject},
		{"a page of decisions", func() (store.Plan, error) {
			return ex.ExplainList(t.Context(), store.Query{PredicateType: decision, Newest: true, Limit: 256, Until: time.Now()})
		}, "evidence_type_time", nil},
		{"subjects with packages", func() (store.Plan, error) {
			return ex.ExplainSubjectsWithPackages(t.Context(), []store.Package{{Ecosystem: "Go", Name: "example.com/mod3"}})
		}, "packages_name", nil},
		{"subjects indexed", func() (store.Plan, error) {
			return ex.ExplainSubjectsIndexed(t.Context(), subjects[:5])
		}, "subjects_digest|subjects primary key", nil},
		{"unindexed SBOMs", func() (store.Plan, error) {
			return ex.ExplainUnindexed(t.Context(), []string{typeA}, 200)
		}, "evidence_type_id|evidence_type_time", nil}, // SQLite's type and time index holds the IDs
	} {
		checkPlan(t, c)
	}
	if ix, ok := s.(store.IDExplainer); ok {
		some := make([]string, 10)
		for i := range some {
			some[i] = vs[i*3].ID
		}
		for _, c := range []check{
			{"miss: the IDs of an artifact's evidence", func() (store.Plan, error) {
				return ix.ExplainListIDs(t.Context(), store.Query{Subject: subject, ExcludePredicateTypes: []string{decision}})
			}, "subjects_digest|subjects primary key", bySubject},
			{"miss: the bundles the cache lacks", func() (store.Plan, error) {
				return ix.ExplainBundles(t.Context(), some)
			}, "", bySubject},
		} {
			checkPlan(t, c)
		}
	} else if _, ok := s.(store.IDLister); ok {
		t.Error("store implements store.IDLister but not store.IDExplainer")
	}
}

// check is a query whose plan hotQueriesUseIndexes checks.
type check struct {
	name  string
	plan  func() (store.Plan, error)
	index string // searched, when set; "a|b": either
	// avoid are indexes the plan must not walk: for one subject's
	// records, those over all records of a type or time range.
	avoid []string
}

func checkPlan(t *testing.T, c check) {
	t.Helper()
	p, err := c.plan()
	if err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	if p.Scans("evidence") {
		t.Errorf("%s: reads the evidence table whole:\n%s", c.name, strings.Join(p.Text, "\n"))
	}
	for _, idx := range c.avoid {
		if p.Uses(idx) {
			t.Errorf("%s: walks index %s, over more than the subject's records:\n%s", c.name, idx, strings.Join(p.Text, "\n"))
		}
	}
	if len(p.Walks) > 0 {
		t.Errorf("%s: walks index %v from one end, reading it whole:\n%s", c.name, p.Walks, strings.Join(p.Text, "\n"))
	}
	if c.index != "" && !slices.ContainsFunc(strings.Split(c.index, "|"), p.Uses) {
		t.Errorf("%s: does not search index %s (searches %v):\n%s", c.name, c.index, p.Indexes, strings.Join(p.Text, "\n"))
	}
}

// listIDs checks IDLister against List: the same IDs in the same order for
// every kind of query, and the bundles exactly as stored.
func listIDs(t *testing.T, open Opener, k1, k2 *keys.PrivateKey) {
	c := &clock{t: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	s := open(t, c.now)
	il, ok := s.(store.IDLister)
	if !ok {
		t.Skip("store does not implement store.IDLister")
	}
	subX := attesttest.Subject("x", []byte("artifact x"))
	subY := attesttest.Subject("y", []byte("artifact y"))
	var vs []*attest.Verified
	for i := range 6 {
		k, typ, subs := k1, typeA, []attest.Subject{subX}
		if i%2 == 1 {
			k, typ, subs = k2, typeB, []attest.Subject{subX, subY}
		}
		if i == 2 {
			// Two names for one digest: listed once.
			subs = []attest.Subject{subX, attesttest.Subject("x-alias", []byte("artifact x"))}
		}
		vs = append(vs, attesttest.Verified(t, k, typ, map[string]any{"n": i}, subs...))
	}
	// Two records share each time, so the ID breaks the tie.
	for i := 0; i < len(vs); i += 2 {
		if _, err := s.(store.Batcher).PutAll(t.Context(), vs[i:i+2]); err != nil {
			t.Fatal(err)
		}
		c.advance(time.Minute)
	}
	mid := time.Date(2026, 3, 1, 0, 1, 0, 0, time.UTC)
	for _, q := range []store.Query{
		{},
		{Subject: attesttest.Digest(subX)},
		{Subject: attesttest.Digest(subY)},
		{Subject: attesttest.Digest(subX), ExcludePredicateTypes: []string{typeB}},
		{Subject: attesttest.Digest(subX), ExcludePredicateTypes: []string{typeA, typeB}},
		{Subject: attesttest.Digest(subX), PredicateType: typeA},
		{PredicateType: typeB, Newest: true},
		{Signer: k2.Public().ID()},
		{Since: mid},
		{Until: mid},
		{Subject: attesttest.Digest(subX), Newest: true, Limit: 3},
		{Subject: attesttest.Digest(subX), Since: mid},
		{Subject: attesttest.Digest(subX), Until: mid, Newest: true},
		{Subject: attesttest.Digest(subY), PredicateType: typeB, Newest: true, Limit: 1},
		{Limit: 4},
		{Subject: attesttest.Digest(attesttest.Subject("z", []byte("artifact z")))},
	} {
		recs, err := s.List(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		got, err := il.ListIDs(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(ids(recs), got); diff != "" {
			t.Errorf("ListIDs(%+v) differs from List's IDs (-list +ListIDs):\n%s", q, diff)
		}
	}
	if _, err := il.ListIDs(t.Context(), store.Query{Limit: -1}); !errors.Is(err, store.ErrBadQuery) {
		t.Errorf("ListIDs with a negative limit: %v, want ErrBadQuery", err)
	}
	missing := "sha256:" + strings.Repeat("0", 64)
	got, err := il.Bundles(t.Context(), []string{vs[4].ID, missing, vs[1].ID})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{vs[4].ID: vs[4].Raw, vs[1].ID: vs[1].Raw}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Bundles (-want +got):\n%s", diff)
	}
	if got, err := il.Bundles(t.Context(), nil); err != nil || len(got) != 0 {
		t.Errorf("Bundles(nil) = %v, %v; want none", got, err)
	}
}
