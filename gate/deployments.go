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
	sq := store.Query{PredicateType: DecisionPredicateType, Subject: q.Artifact, Newest: true}
	// Records the environment filter or verification leave out do not
	// count against the limit, so read pages until it is reached. A page
	// ends inside the group of records stored at its oldest instant at
	// worst; the next one starts just after that instant (a microsecond,
	// the coarsest resolution of a store) and skips what was seen.
	seen := map[string]bool{}
	batch := q.Limit
	for {
		sq.Limit = batch
		recs, err := st.List(ctx, sq)
		if err != nil {
			return nil, nil, fmt.Errorf("list decisions: %w", err)
		}
		fresh := 0
		for _, rec := range recs {
			if seen[rec.ID] {
				continue
			}
			seen[rec.ID] = true
			fresh++
			d, err := ReadDecision(ctx, rec.Bundle, tr)
			if err != nil {
				if ctx.Err() != nil {
					return nil, nil, ctx.Err()
				}
				ignored = append(ignored, IgnoredDecision{ID: rec.ID, Reason: err.Error()})
				continue
			}
			if q.Environment != "" && d.Environment != q.Environment {
				continue
			}
			out = append(out, Deployment{ID: rec.ID, Decision: d})
			if q.Limit > 0 && len(out) == q.Limit {
				return out, ignored, nil
			}
		}
		if batch == 0 || len(recs) < batch {
			return out, ignored, nil
		}
		sq.Until = recs[len(recs)-1].StoredAt.Add(time.Microsecond)
		if fresh == 0 {
			batch *= 2
		}
	}
}
