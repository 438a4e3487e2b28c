package server

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/store"
)

// RecheckSource is the Source of the decisions a recheck records; they are
// not themselves deployments, so later rechecks ignore them.
const RecheckSource = "recheck"

// Recheck is the outcome of re-evaluating one deployed artifact.
type Recheck struct {
	// Artifact and Environment identify what is deployed where.
	Artifact    policy.Artifact `json:"artifact"`
	Environment string          `json:"environment"`
	// DeployedAt is the time of the latest allow decision.
	DeployedAt time.Time `json:"deployedAt"`
	// Allowed is the verdict under today's evidence and policy.
	Allowed bool `json:"allowed"`
	// Violations say why it would now be denied.
	Violations []policy.Violation `json:"violations"`
	// Decision is the recorded recheck decision's ID.
	Decision string `json:"decision,omitempty"`
	// Error is set when the gate failed closed.
	Error string `json:"error,omitempty"`
}

// Deployed returns the artifacts currently recorded as deployed: each
// (artifact, environment) with an allow decision, other than one a
// recheck recorded, with its latest such decision. Sorted by environment,
// then digest.
func Deployed(ctx context.Context, st store.Store) ([]Deployment, error) {
	ds, err := Deployments(ctx, st, "", "")
	if err != nil {
		return nil, err
	}
	type key struct{ digest, env string }
	latest := map[key]Deployment{}
	for _, d := range ds {
		if !d.Allowed || d.Source == RecheckSource {
			continue
		}
		k := key{d.Artifact.Digest, d.Environment}
		if prev, ok := latest[k]; !ok || !d.DecidedAt.Before(prev.DecidedAt) {
			latest[k] = d
		}
	}
	out := make([]Deployment, 0, len(latest))
	for _, d := range latest {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Environment != out[j].Environment {
			return out[i].Environment < out[j].Environment
		}
		return out[i].Artifact.Digest < out[j].Artifact.Digest
	})
	return out, nil
}

// RecheckDeployed re-evaluates every deployed artifact with the gate (the
// current evidence and policy) and records each result with Source
// "recheck". An artifact whose environment the gate has no policy for is
// reported with an error, as the gate fails closed. With envs, only those
// environments are rechecked.
func RecheckDeployed(ctx context.Context, st store.Store, g *gate.Gate, requester string, envs ...string) ([]Recheck, error) {
	deployed, err := Deployed(ctx, st)
	if err != nil {
		return nil, err
	}
	out := make([]Recheck, 0, len(deployed))
	for _, d := range deployed {
		if len(envs) > 0 && !slices.Contains(envs, d.Environment) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return out, err
		}
		r := Recheck{Artifact: d.Artifact, Environment: d.Environment, DeployedAt: d.DecidedAt, Violations: []policy.Violation{}}
		res, err := g.Evaluate(ctx, gate.Request{Artifact: d.Artifact, Environment: d.Environment, Requester: requester, Source: RecheckSource})
		if res != nil {
			r.Allowed = res.Decision.Allow && err == nil
			r.Violations = append(r.Violations, res.Decision.Violations...)
			r.Decision = res.Record.ID
		}
		if err != nil {
			r.Allowed = false
			r.Error = fmt.Sprintf("gate failed closed: %v", err)
		}
		out = append(out, r)
	}
	return out, nil
}
