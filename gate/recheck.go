package gate

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/policy"
)

// RecheckSource is the Source of the decisions a recheck records; they are
// not themselves deployments, so later rechecks ignore them.
const RecheckSource = "recheck"

// Recheck is the outcome of re-evaluating one deployed artifact.
type Recheck struct {
	// Artifact and Environment identify what is deployed where.
	Artifact    policy.Artifact `json:"artifact"`
	Environment string          `json:"environment"`
	// Workloads are the places in the environment it was admitted to.
	Workloads []Workload `json:"workloads"`
	// DeployedAt is the time of the latest admission that allowed it.
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

// RecheckDeployed re-evaluates every deployed artifact with the gate (the
// current evidence and policy), once per (artifact, environment) whatever
// the number of workloads it runs in, and records each result with Source
// RecheckSource. An artifact whose environment the gate has no policy for is
// reported with an error, as the gate fails closed. With envs, only those
// environments are rechecked. What is deployed comes from Deployed over the
// gate's store and trust file; the decision records it left out are
// returned as ignored. Sorted by environment, then digest.
func (g *Gate) RecheckDeployed(ctx context.Context, requester string, envs ...string) ([]Recheck, []IgnoredDecision, error) {
	return g.RecheckSelected(ctx, requester, nil, envs...)
}

// Selector picks, among the digests of the deployed artifacts, those to
// re-evaluate (recheck --incremental: impact.Touched).
type Selector func(ctx context.Context, digests []string) (map[string]bool, error)

// RecheckSelected is RecheckDeployed over the deployed artifacts sel picks
// (all when sel is nil); the others are left out of the result.
func (g *Gate) RecheckSelected(ctx context.Context, requester string, sel Selector, envs ...string) ([]Recheck, []IgnoredDecision, error) {
	running, ignored, err := Deployed(ctx, g.store, g.trust)
	if err != nil {
		return nil, nil, err
	}
	if sel != nil {
		var digests []string
		for _, r := range running {
			if len(envs) == 0 || slices.Contains(envs, r.Environment) {
				digests = append(digests, r.Artifact.Digest.String())
			}
		}
		slices.Sort(digests)
		picked, err := sel(ctx, slices.Compact(digests))
		if err != nil {
			return nil, ignored, err
		}
		running = slices.DeleteFunc(running, func(r Running) bool { return !picked[r.Artifact.Digest.String()] })
	}
	type key struct {
		env    string
		digest digest.Digest
	}
	byArtifact := map[key]*Recheck{}
	var order []key
	for _, r := range running {
		if len(envs) > 0 && !slices.Contains(envs, r.Environment) {
			continue
		}
		k := key{r.Environment, r.Artifact.Digest}
		rc, ok := byArtifact[k]
		if !ok {
			rc = &Recheck{Artifact: r.Artifact, Environment: r.Environment, Violations: []policy.Violation{}}
			byArtifact[k] = rc
			order = append(order, k)
		}
		rc.Workloads = append(rc.Workloads, r.Workload)
		if r.AdmittedAt.After(rc.DeployedAt) {
			rc.DeployedAt = r.AdmittedAt
		}
	}
	slices.SortFunc(order, func(a, b key) int {
		return cmp.Or(cmp.Compare(a.env, b.env), cmp.Compare(a.digest.String(), b.digest.String()))
	})
	out := make([]Recheck, 0, len(order))
	for _, k := range order {
		if err := ctx.Err(); err != nil {
			return out, ignored, err
		}
		r := *byArtifact[k]
		res, err := g.Evaluate(ctx, Request{Artifact: r.Artifact, Environment: r.Environment, Requester: requester, Source: RecheckSource})
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
