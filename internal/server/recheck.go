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
	"github.com/hallmark-dev/hallmark/trust"
)

// RecheckSource is the Source of the decisions a recheck records; they are
// not themselves deployments, so later rechecks ignore them.
const RecheckSource = "recheck"

// Recheck is the outcome of re-evaluating one deployed artifact.
type Recheck struct {
	// Artifact and Environment identify what is deployed where.
	Artifact    policy.Artifact `json:"artifact"`
	Environment string          `json:"environment"`
	// DeployedAt is the time of the latest decision, which allowed it.
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

// Deployed returns the artifacts currently recorded as deployed: for each
// (artifact, environment), the latest decision (by DecidedAt; of two at the
// same instant, the one stored later), leaving out the ones a recheck
// recorded, decides: it is deployed when that decision allowed it. An
// artifact allowed and later denied is not deployed. Decisions are read
// through Deployments, so only those a gate-role key signed count; the
// ones left out are returned as ignored. Sorted by environment, then digest.
func Deployed(ctx context.Context, st store.Store, tr *trust.Trust) ([]Deployment, []IgnoredDecision, error) {
	ds, ignored, err := Deployments(ctx, st, tr, DeploymentQuery{})
	if err != nil {
		return nil, nil, err
	}
	type key struct{ digest, env string }
	latest := map[key]Deployment{}
	for _, d := range ds { // newest stored first
		if d.Source == RecheckSource {
			continue
		}
		k := key{d.Artifact.Digest, d.Environment}
		if prev, ok := latest[k]; !ok || d.DecidedAt.After(prev.DecidedAt) {
			latest[k] = d
		}
	}
	out := make([]Deployment, 0, len(latest))
	for _, d := range latest {
		if d.Allowed {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Environment != out[j].Environment {
			return out[i].Environment < out[j].Environment
		}
		return out[i].Artifact.Digest < out[j].Artifact.Digest
	})
	return out, ignored, nil
}

// RecheckDeployed re-evaluates every deployed artifact with the gate (the
// current evidence and policy) and records each result with Source
// "recheck". An artifact whose environment the gate has no policy for is
// reported with an error, as the gate fails closed. With envs, only those
// environments are rechecked. What is deployed comes from Deployed over the
// trust file tr; the decision records it left out are returned as ignored.
func RecheckDeployed(ctx context.Context, st store.Store, tr *trust.Trust, g *gate.Gate, requester string, envs ...string) ([]Recheck, []IgnoredDecision, error) {
	deployed, ignored, err := Deployed(ctx, st, tr)
	if err != nil {
		return nil, nil, err
	}
	out := make([]Recheck, 0, len(deployed))
	for _, d := range deployed {
		if len(envs) > 0 && !slices.Contains(envs, d.Environment) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return out, ignored, err
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
	return out, ignored, nil
}
