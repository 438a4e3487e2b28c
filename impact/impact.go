package impact

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/sbom"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/trust"
	"github.com/hallmark-dev/hallmark/vuln/osv"
	"github.com/hallmark-dev/hallmark/vuln/osvdb"
)

// ErrNoIndex is returned for a store without a package index.
var ErrNoIndex = errors.New("this store has no package index")

// sbomTypes are the predicate types whose packages are indexed.
var sbomTypes = []string{sbom.PredicateCycloneDX, sbom.PredicateSPDX}

// indexBatch is how many SBOM records are indexed per transaction.
const indexBatch = 200

// Result says which artifacts to recheck, and why.
type Result struct {
	// Since is when the changes counted start.
	Since time.Time `json:"since"`
	// Touched are the artifacts ("sha256:HEX") to re-evaluate.
	Touched []string `json:"touched"`
	// Full is set when an import had nothing to compare with (a first
	// import): every artifact is touched.
	Full bool `json:"full"`
	// Unindexed are artifacts with no indexed SBOM: what they contain is
	// unknown, so they are touched too.
	Unindexed []string `json:"unindexed,omitempty"`
	// Packages is how many changed packages were looked up, and Indexed
	// how many SBOM records were newly indexed on the way.
	Packages int `json:"packages"`
	Indexed  int `json:"indexed"`
}

// Touched returns which of digests ("sha256:HEX", the deployed
// artifacts) the imports of db after since may affect. It first indexes
// the packages of SBOM records not indexed yet (verified against tr; an
// SBOM no trusted key signed any more is indexed as listing nothing).
func Touched(ctx context.Context, st store.Store, tr *trust.Trust, db *osvdb.DB, since time.Time, digests []string) (*Result, error) {
	ix, ok := st.(store.PackageIndexer)
	if !ok {
		return nil, ErrNoIndex
	}
	res := &Result{Since: since.UTC(), Touched: []string{}}
	n, err := Index(ctx, st, tr)
	res.Indexed = n
	if err != nil {
		return nil, err
	}
	changes, err := db.ChangesSince(since)
	if err != nil {
		return nil, fmt.Errorf("database changes since %s: %w", since.Format(time.RFC3339), err)
	}
	if len(changes.Full) > 0 {
		res.Full = true
		res.Touched = slices.Clone(digests)
		slices.Sort(res.Touched)
		return res, nil
	}
	var pkgs []store.Package
	for eco, names := range changes.Packages {
		for _, n := range names {
			pkgs = append(pkgs, store.Package{Ecosystem: eco, Name: n})
		}
	}
	res.Packages = len(pkgs)
	hit, err := ix.SubjectsWithPackages(ctx, pkgs)
	if err != nil {
		return nil, err
	}
	indexed, err := ix.SubjectsIndexed(ctx, digests)
	if err != nil {
		return nil, err
	}
	for _, d := range digests {
		switch {
		case !contains(indexed, d):
			res.Unindexed = append(res.Unindexed, d)
			res.Touched = append(res.Touched, d)
		case contains(hit, d):
			res.Touched = append(res.Touched, d)
		}
	}
	slices.Sort(res.Touched)
	slices.Sort(res.Unindexed)
	return res, nil
}

// contains looks d up in a sorted list.
func contains(sorted []string, d string) bool {
	_, ok := slices.BinarySearch(sorted, d)
	return ok
}

// Index adds the packages of every SBOM record not indexed yet to the
// store's package index and returns how many records it indexed.
func Index(ctx context.Context, st store.Store, tr *trust.Trust) (int, error) {
	ix, ok := st.(store.PackageIndexer)
	if !ok {
		return 0, ErrNoIndex
	}
	keys := tr.All()
	total := 0
	for {
		ids, err := ix.Unindexed(ctx, sbomTypes, indexBatch)
		if err != nil {
			return total, err
		}
		if len(ids) == 0 {
			return total, nil
		}
		batch := make(map[string][]store.Package, len(ids))
		for _, id := range ids {
			rec, err := st.Get(ctx, id)
			if err != nil {
				return total, err
			}
			batch[id] = packagesOf(ctx, rec.Bundle, keys)
		}
		if err := ix.IndexPackages(ctx, batch); err != nil {
			return total, err
		}
		total += len(ids)
	}
}

// packagesOf verifies a stored SBOM bundle and lists its packages as OSV
// names them; nil when it does not verify or decode.
func packagesOf(ctx context.Context, raw []byte, keys *attest.KeySet) []store.Package {
	v, err := attest.Verify(ctx, raw, keys, attest.WithInputName("stored SBOM"))
	if err != nil {
		return nil
	}
	doc, err := v.PredicateJSON()
	if err != nil {
		return nil
	}
	inv, err := sbom.Decode(bytes.NewReader(doc))
	if err != nil {
		return nil
	}
	var out []store.Package
	for _, p := range sbom.VulnPackages(inv) {
		eco := osv.BaseEcosystem(p.Ecosystem)
		if eco == "" || p.Name == "" {
			continue
		}
		out = append(out, store.Package{Ecosystem: eco, Name: osv.NormalizeName(eco, p.Name)})
	}
	return out
}

// LastRecheck returns when the latest recheck decision (Source "recheck")
// about one of envs (any, when empty) was made, verified against tr as
// the gate's; zero when there is none.
func LastRecheck(ctx context.Context, st store.Store, tr *trust.Trust, envs ...string) (time.Time, error) {
	q := store.Query{PredicateType: gate.DecisionPredicateType, Newest: true, Limit: 200}
	var latest time.Time
	for {
		recs, err := st.List(ctx, q)
		if err != nil {
			return time.Time{}, fmt.Errorf("last recheck: %w", err)
		}
		for _, r := range recs {
			d, err := gate.ReadDecision(ctx, r.Bundle, tr)
			if err != nil || d.Source != "recheck" || (len(envs) > 0 && !slices.Contains(envs, d.Environment)) {
				continue
			}
			if d.DecidedAt.After(latest) {
				latest = d.DecidedAt
			}
		}
		if !latest.IsZero() || len(recs) < q.Limit {
			return latest, nil
		}
		// Records stored at the page's oldest instant may straddle pages:
		// the next page starts there again (re-reading a few is harmless).
		q.Until = recs[len(recs)-1].StoredAt.Add(time.Microsecond)
		if q.Until.Equal(recs[0].StoredAt.Add(time.Microsecond)) {
			q.Limit *= 2
		}
	}
}

// Selector is the selection of recheck --incremental, for
// gate.RecheckSelected: the deployed artifacts that db's imports after
// since touched (Touched). A zero since means the last recheck of envs
// (LastRecheck); when there is none either, every artifact is picked.
// report, when not nil, is given each result and the number of deployed
// artifacts it chose among. The CLI and the server both use it.
func Selector(ctx context.Context, st store.Store, tr *trust.Trust, db *osvdb.DB, since time.Time, envs []string, report func(res *Result, deployed int)) (gate.Selector, error) {
	if since.IsZero() {
		t, err := LastRecheck(ctx, st, tr, envs...)
		if err != nil {
			return nil, err
		}
		since = t
	}
	return func(ctx context.Context, digests []string) (map[string]bool, error) {
		res, err := Touched(ctx, st, tr, db, since, digests)
		if err != nil {
			return nil, err
		}
		picked := make(map[string]bool, len(res.Touched))
		for _, d := range res.Touched {
			picked[d] = true
		}
		if report != nil {
			report(res, len(digests))
		}
		return picked, nil
	}, nil
}
