package gate

import (
	"context"
	"fmt"
	"time"

	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/trust"
)

// DeploymentQuery selects recorded gate decisions. Zero fields do not
// constrain.
type DeploymentQuery struct {
	// Environment keeps the decisions about this environment.
	Environment string
	// Artifact keeps the decisions about this digest.
	Artifact digest.Digest
	// Limit caps how many decisions are returned, the newest ones; 0 means
	// every matching decision.
	Limit int
}

// Deployment is one recorded decision, as Deployments lists it.
type Deployment struct {
	// ID is the decision record's ID.
	ID string `json:"id"`
	Decision
}

// IgnoredDecision is a stored decision record a listing left out, and why.
type IgnoredDecision struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// Deployments lists the recorded gate decisions matching q, newest first
// (by when they were stored). Every record is verified again against the
// trust file and counts only when a key with the gate role signed it (see
// ReadDecision); the others are returned as ignored, so a decision
// uploaded under a scanner's or a stranger's key is never listed.
func Deployments(ctx context.Context, st store.Store, tr *trust.Trust, q DeploymentQuery) ([]Deployment, []IgnoredDecision, error) {
	if tr == nil {
		return nil, nil, fmt.Errorf("list decisions: no trust file to verify them against")
	}
	if q.Limit < 0 {
		return nil, nil, fmt.Errorf("list decisions: %w: negative limit %d", store.ErrBadQuery, q.Limit)
	}
	out := []Deployment{}
	var ignored []IgnoredDecision
	page := decisionPage
	if q.Limit > 0 && q.Limit < page {
		page = q.Limit
	}
	err := eachDecision(ctx, st, tr, q.Artifact, page, func(d Deployment) bool {
		if q.Environment != "" && d.Environment != q.Environment {
			return true
		}
		out = append(out, d)
		return q.Limit == 0 || len(out) < q.Limit
	}, func(ig IgnoredDecision) { ignored = append(ignored, ig) })
	if err != nil {
		return nil, nil, err
	}
	return out, ignored, nil
}

// decisionPage is how many decision records eachDecision reads from the
// store at a time: what a listing holds in memory at once, bundles and
// all, however many decisions are stored.
var decisionPage = 256

// eachDecision reads the decision records about artifact (any, when zero)
// from the store, newest stored first, page records at a time, verifies
// each against tr and gives it to visit, or to ignore when it does not
// verify as the gate's; it stops when visit returns false. Only the
// current page and the IDs the next page may repeat are held, so memory
// does not grow with the number of decisions stored.
func eachDecision(ctx context.Context, st store.Store, tr *trust.Trust, artifact digest.Digest, page int, visit func(Deployment) bool, ignore func(IgnoredDecision)) error {
	sq := store.Query{PredicateType: DecisionPredicateType, Subject: artifact, Newest: true}
	// A page ends inside the group of records stored at its oldest instant
	// at worst; the next one starts just after that instant (a microsecond,
	// the coarsest resolution of a store) and skips what was seen: the
	// records of this page stored before that bound, which the next page
	// returns first. When a page holds nothing new (more records share an
	// instant than a page holds), the page doubles.
	var seen map[string]bool
	batch := page
	for {
		sq.Limit = batch
		recs, err := st.List(ctx, sq)
		if err != nil {
			return fmt.Errorf("list decisions: %w", err)
		}
		fresh := 0
		for _, rec := range recs {
			if seen[rec.ID] {
				continue
			}
			fresh++
			d, err := ReadDecision(ctx, rec.Bundle, tr)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				ignore(IgnoredDecision{ID: rec.ID, Reason: err.Error()})
				continue
			}
			if !visit(Deployment{ID: rec.ID, Decision: d}) {
				return nil
			}
		}
		if len(recs) < batch {
			return nil
		}
		sq.Until = recs[len(recs)-1].StoredAt.Add(time.Microsecond)
		seen = map[string]bool{}
		for _, rec := range recs {
			if rec.StoredAt.Before(sq.Until) {
				seen[rec.ID] = true
			}
		}
		if fresh == 0 {
			batch *= 2
		}
	}
}
