package server

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/trust"
)

// RecheckSource is the Source of the decisions a recheck records; they are
// not themselves deployments, so later rechecks ignore them.
const RecheckSource = "recheck"

// AdmissionSource is the Source of the decisions the admission webhook
// records; only its allows say that something was deployed.
const AdmissionSource = "admission"

// Recheck is the outcome of re-evaluating one deployed artifact.
type Recheck struct {
	// Artifact and Environment identify what is deployed where.
	Artifact    policy.Artifact `json:"artifact"`
	Environment string          `json:"environment"`
	// Workloads are the places in the environment it was admitted to.
	Workloads []gate.Workload `json:"workloads"`
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

// Running is one place an artifact was admitted to run: an environment and
// a workload (namespace, kind, name), with the latest admission that
// allowed it there.
type Running struct {
	Environment string          `json:"environment"`
	Workload    gate.Workload   `json:"workload"`
	Artifact    policy.Artifact `json:"artifact"`
	// AdmittedAt is the decision time of the latest allow there.
	AdmittedAt time.Time `json:"admittedAt"`
	// Decision is that allow's record ID.
	Decision string `json:"decision"`
}

// legacyWorkload reads the workload from the requester an admission
// decision recorded before decisions carried it: "USER (KIND NS/NAME)".
var legacyWorkload = regexp.MustCompile(`\((\w+) ([^/ ()]*)/([^/ ()]*)\)$`)

// workloadOf returns where an admission decision was about.
func workloadOf(d gate.Decision) gate.Workload {
	if d.Workload != nil {
		return *d.Workload
	}
	if m := legacyWorkload.FindStringSubmatch(d.Requester); m != nil {
		return gate.Workload{Kind: m[1], Namespace: m[2], Name: m[3]}
	}
	return gate.Workload{}
}

// Deployed returns what is recorded as deployed: every (environment,
// workload, artifact) an admission review allowed (a review none of whose
// recorded decisions is a deny), with the latest such allow. What was admitted keeps running whatever is decided later about
// the same digest elsewhere, so nothing else counts: a denial (in another
// namespace, by POST /v1/gate or the CLI, of an UPDATE after the allow
// cache expired) does not undo an admission, and a gate check that deploys
// nothing itself (CLI, API, a recheck) or a dry run (never recorded) is no
// deployment. The webhook never sees a deletion, so an admitted artifact
// stays listed. Decisions are read through Deployments, so only those a
// gate-role key signed count; the ones left out are returned as ignored.
// Sorted by environment, namespace, kind, name, then digest.
func Deployed(ctx context.Context, st store.Store, tr *trust.Trust) ([]Running, []IgnoredDecision, error) {
	ds, ignored, err := Deployments(ctx, st, tr, DeploymentQuery{})
	if err != nil {
		return nil, nil, err
	}
	type key struct {
		env    string
		w      gate.Workload
		digest string
	}
	// A review with a denied digest was denied as a whole: the allows
	// recorded for its other digests admitted nothing.
	deniedReviews := map[string]bool{}
	for _, d := range ds {
		if d.Source == AdmissionSource && !d.Allowed {
			if r := workloadOf(d.Decision).Review; r != "" {
				deniedReviews[r] = true
			}
		}
	}
	latest := map[key]Running{}
	for _, d := range ds { // newest stored first
		if d.Source != AdmissionSource || !d.Allowed {
			continue
		}
		wl := workloadOf(d.Decision)
		if deniedReviews[wl.Review] {
			continue
		}
		wl.Review = ""
		k := key{d.Environment, wl, d.Artifact.Digest}
		if prev, ok := latest[k]; !ok || d.DecidedAt.After(prev.AdmittedAt) {
			latest[k] = Running{Environment: d.Environment, Workload: k.w, Artifact: d.Artifact, AdmittedAt: d.DecidedAt, Decision: d.ID}
		}
	}
	out := make([]Running, 0, len(latest))
	for _, r := range latest {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Running) int {
		return cmp.Or(cmp.Compare(a.Environment, b.Environment), cmp.Compare(a.Workload.Namespace, b.Workload.Namespace),
			cmp.Compare(a.Workload.Kind, b.Workload.Kind), cmp.Compare(a.Workload.Name, b.Workload.Name),
			cmp.Compare(a.Artifact.Digest, b.Artifact.Digest))
	})
	return out, ignored, nil
}

// RecheckDeployed re-evaluates every deployed artifact with the gate (the
// current evidence and policy), once per (artifact, environment) whatever
// the number of workloads it runs in, and records each result with Source
// "recheck". An artifact whose environment the gate has no policy for is
// reported with an error, as the gate fails closed. With envs, only those
// environments are rechecked. What is deployed comes from Deployed over the
// trust file tr; the decision records it left out are returned as ignored.
// Sorted by environment, then digest.
func RecheckDeployed(ctx context.Context, st store.Store, tr *trust.Trust, g *gate.Gate, requester string, envs ...string) ([]Recheck, []IgnoredDecision, error) {
	return RecheckSelected(ctx, st, tr, g, requester, nil, envs...)
}

// Selector picks, among the digests of the deployed artifacts, those to
// re-evaluate (recheck --incremental: impact.Touched).
type Selector func(ctx context.Context, digests []string) (map[string]bool, error)

// RecheckSelected is RecheckDeployed over the deployed artifacts sel picks
// (all when sel is nil); the others are left out of the result.
func RecheckSelected(ctx context.Context, st store.Store, tr *trust.Trust, g *gate.Gate, requester string, sel Selector, envs ...string) ([]Recheck, []IgnoredDecision, error) {
	running, ignored, err := Deployed(ctx, st, tr)
	if err != nil {
		return nil, nil, err
	}
	if sel != nil {
		var digests []string
		for _, r := range running {
			if len(envs) == 0 || slices.Contains(envs, r.Environment) {
				digests = append(digests, r.Artifact.Digest)
			}
		}
		slices.Sort(digests)
		picked, err := sel(ctx, slices.Compact(digests))
		if err != nil {
			return nil, ignored, err
		}
		running = slices.DeleteFunc(running, func(r Running) bool { return !picked[r.Artifact.Digest] })
	}
	type key struct{ env, digest string }
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
	slices.SortFunc(order, func(a, b key) int { return cmp.Or(cmp.Compare(a.env, b.env), cmp.Compare(a.digest, b.digest)) })
	out := make([]Recheck, 0, len(order))
	for _, k := range order {
		if err := ctx.Err(); err != nil {
			return out, ignored, err
		}
		r := *byArtifact[k]
		res, err := g.Evaluate(ctx, gate.Request{Artifact: r.Artifact, Environment: r.Environment, Requester: requester, Source: RecheckSource})
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
