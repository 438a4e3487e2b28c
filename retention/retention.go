package retention

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/trust"
	"github.com/hallmark-dev/hallmark/vuln"
)

// ErrBadWindow is returned for a retention window that is not positive.
var ErrBadWindow = errors.New("bad retention window")

// ErrCannotDelete is returned by Apply for a store without store.Deleter.
var ErrCannotDelete = errors.New("this store cannot delete evidence")

// Reasons a record is pruned.
const (
	ReasonSupersededScan    = "superseded scan"
	ReasonOldDenial         = "denial older than the window"
	ReasonSupersededRecheck = "superseded recheck allow"
	ReasonPrunedDecisionVSA = "VSA of a pruned decision"
)

// supersedable are the predicate types of which only the newest record per
// artifact and signer set counts for an audit: a newer vulnerability scan
// or SBOM of the same bytes by the same scanner key replaces the older.
// Finding scans (secrets, misconfig) share one predicate type across
// scanners, so they are not among them.
var supersedable = []string{vuln.PredicateType, gate.CycloneDXPredicateType, gate.SPDXPredicateType}

// Item is one record of a plan.
type Item struct {
	ID            string    `json:"id"`
	PredicateType string    `json:"predicateType"`
	Subject       string    `json:"subject,omitempty"`
	StoredAt      time.Time `json:"storedAt"`
	Bytes         int       `json:"bytes"`
	Reason        string    `json:"reason"`
}

// Plan is what a prune would remove, and why.
type Plan struct {
	// Cutoff is now minus the window: only records stored before it go.
	Cutoff time.Time `json:"cutoff"`
	// Records and Bytes count every record read and its bundle bytes.
	Records int   `json:"records"`
	Bytes   int64 `json:"bytes"`
	// Prune lists the records to remove, oldest first, and PruneBytes the
	// size of their bundles.
	Prune      []Item `json:"prune"`
	PruneBytes int64  `json:"pruneBytes"`
	// Unreadable lists decision records that do not verify as the gate's
	// against the trust file; they are kept, since only a person can tell
	// what they are.
	Unreadable []Item `json:"unreadable,omitempty"`
}

// IDs returns the IDs of the records to prune.
func (p *Plan) IDs() []string {
	out := make([]string, len(p.Prune))
	for i, it := range p.Prune {
		out[i] = it.ID
	}
	return out
}

// pageSize is how many records the plan reads per query.
const pageSize = 500

// record is what the plan keeps of a record: no bundle.
type record struct {
	Item
	group string // supersedable: type, subjects and signers
}

type decision struct {
	record
	d gate.Decision
}

// NewPlan reads every record of st and returns what may be pruned with
// the records stored before now minus window. Decisions are read with
// gate.ReadDecision against tr, so only the gate's own count.
func NewPlan(ctx context.Context, st store.Store, tr *trust.Trust, window time.Duration, now time.Time) (*Plan, error) {
	if window <= 0 {
		return nil, fmt.Errorf("%w: %s (want a positive duration such as 720h)", ErrBadWindow, window)
	}
	if tr == nil {
		return nil, errors.New("retention: no trust file to read decisions with")
	}
	p := &Plan{Cutoff: now.Add(-window).UTC()}
	var decisions []decision
	vsas := map[string]record{}
	groups := map[string][]record{}
	err := each(ctx, st, func(r store.Record) error {
		p.Records++
		p.Bytes += int64(len(r.Bundle))
		rec := record{Item: Item{ID: r.ID, PredicateType: r.PredicateType, Subject: firstSubject(r), StoredAt: r.StoredAt, Bytes: len(r.Bundle)}}
		switch {
		case r.PredicateType == gate.DecisionPredicateType:
			d, err := gate.ReadDecision(ctx, r.Bundle, tr)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				rec.Reason = err.Error()
				p.Unreadable = append(p.Unreadable, rec.Item)
				return nil
			}
			decisions = append(decisions, decision{rec, d})
		case r.PredicateType == gate.VSAPredicateType:
			vsas[r.ID] = rec
		case slices.Contains(supersedable, r.PredicateType):
			rec.group = groupKey(r)
			groups[rec.group] = append(groups[rec.group], rec)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("retention: read the store: %w", err)
	}

	old := func(r record) bool { return r.StoredAt.Before(p.Cutoff) }
	// The latest decision about an artifact in an environment says where
	// it stands now, and an admission review is denied as a whole when
	// one of its digests is: both stay.
	type target struct{ env, digest string }
	latest := map[target]decision{}
	allowedReviews := map[string]bool{}
	for _, d := range decisions {
		t := target{d.d.Environment, d.d.Artifact.Digest.String()}
		if cur, ok := latest[t]; !ok || newer(d, cur) {
			latest[t] = d
		}
		if d.d.Allowed && d.d.Source == gate.AdmissionSource && d.d.Workload != nil && d.d.Workload.Review != "" {
			allowedReviews[d.d.Workload.Review] = true
		}
	}
	referenced := map[string]bool{}
	var pruned []decision
	for _, d := range decisions {
		reason := ""
		switch {
		case !old(d.record) || latest[target{d.d.Environment, d.d.Artifact.Digest.String()}].ID == d.ID:
		case !d.d.Allowed && !decidesReview(d.d, allowedReviews):
			reason = ReasonOldDenial
		case d.d.Allowed && d.d.Source == gate.RecheckSource:
			reason = ReasonSupersededRecheck
		}
		if reason == "" {
			for _, id := range d.d.Evidence {
				referenced[id] = true
			}
			referenced[d.d.VSA] = true
			continue
		}
		d.Reason = reason
		pruned = append(pruned, d)
	}
	for _, d := range pruned {
		p.add(d.Item)
		if v, ok := vsas[d.d.VSA]; ok && !referenced[v.ID] {
			v.Reason = ReasonPrunedDecisionVSA
			p.add(v.Item)
		}
	}
	for _, g := range groups {
		slices.SortFunc(g, func(a, b record) int { return cmp.Or(b.StoredAt.Compare(a.StoredAt), strings.Compare(b.ID, a.ID)) })
		for _, r := range g[1:] { // all but the newest
			if old(r) && !referenced[r.ID] {
				r.Reason = ReasonSupersededScan
				p.add(r.Item)
			}
		}
	}
	slices.SortFunc(p.Prune, func(a, b Item) int { return cmp.Or(a.StoredAt.Compare(b.StoredAt), strings.Compare(a.ID, b.ID)) })
	return p, nil
}

func (p *Plan) add(it Item) {
	p.Prune = append(p.Prune, it)
	p.PruneBytes += int64(it.Bytes)
}

// newer orders decisions by decision time, then store time, then ID.
func newer(a, b decision) bool {
	return cmp.Or(a.d.DecidedAt.Compare(b.d.DecidedAt), a.StoredAt.Compare(b.StoredAt), strings.Compare(a.ID, b.ID)) > 0
}

// decidesReview reports whether a denial is what denied an admission
// review that also recorded allows: without it, those allows would read as
// admitted (deployed).
func decidesReview(d gate.Decision, allowedReviews map[string]bool) bool {
	return d.Source == gate.AdmissionSource && d.Workload != nil && d.Workload.Review != "" && allowedReviews[d.Workload.Review]
}

// groupKey is a supersedable record's predicate type, subject digests and
// signers: records with the same key say the same kind of thing about the
// same bytes from the same scanner key.
func groupKey(r store.Record) string {
	var subs []string
	for _, s := range r.Subjects {
		for alg, d := range s.Digest {
			subs = append(subs, alg+":"+d)
		}
	}
	slices.Sort(subs)
	subs = slices.Compact(subs)
	signers := slices.Clone(r.Signers)
	slices.Sort(signers)
	return r.PredicateType + "\x00" + strings.Join(subs, ",") + "\x00" + strings.Join(signers, ",")
}

func firstSubject(r store.Record) string {
	for _, s := range r.Subjects {
		if d := s.Digest["sha256"]; d != "" {
			return "sha256:" + d
		}
	}
	return ""
}

// each calls fn for every record of st, oldest first, reading a page at a
// time. A page ends inside the group of records stored at its newest
// instant at worst; the next starts at that instant and skips what was
// seen.
func each(ctx context.Context, st store.Store, fn func(store.Record) error) error {
	q := store.Query{Limit: pageSize}
	var last time.Time
	seenAtLast := map[string]bool{}
	for {
		recs, err := st.List(ctx, q)
		if err != nil {
			return err
		}
		fresh := 0
		for _, r := range recs {
			if r.StoredAt.Equal(last) && seenAtLast[r.ID] {
				continue
			}
			if !r.StoredAt.Equal(last) {
				last = r.StoredAt
				clear(seenAtLast)
			}
			seenAtLast[r.ID] = true
			fresh++
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(recs) < q.Limit {
			return nil
		}
		q.Since = last
		if fresh == 0 {
			q.Limit *= 2 // a page of one instant, all seen: widen it
		}
	}
}

// Apply removes the plan's records from st, in batches, each one
// transaction. It returns how many records were removed.
func Apply(ctx context.Context, st store.Store, p *Plan) (int, error) {
	d, ok := st.(store.Deleter)
	if !ok {
		return 0, ErrCannotDelete
	}
	ids := p.IDs()
	removed := 0
	for batch := range slices.Chunk(ids, pageSize) {
		n, err := d.Delete(ctx, batch)
		removed += n
		if err != nil {
			return removed, fmt.Errorf("retention: %w", err)
		}
	}
	return removed, nil
}
