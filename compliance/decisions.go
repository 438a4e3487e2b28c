package compliance

import (
	"context"

	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/trust"
)

// StoreDecisions lists the gate decisions recorded in s that verify
// against tr (gate.Deployments), for Generate: the CLI's report and export,
// the dashboard and the archive's verification all list them so. ignored,
// if not nil, is told which stored decisions did not verify.
func StoreDecisions(s store.Store, tr *trust.Trust, ignored func([]gate.IgnoredDecision)) DecisionLister {
	return func(ctx context.Context, env string, artifact digest.Digest) ([]DecisionRecord, error) {
		ds, ig, err := gate.Deployments(ctx, s, tr, gate.DeploymentQuery{Environment: env, Artifact: artifact})
		if err != nil {
			return nil, err
		}
		if ignored != nil {
			ignored(ig)
		}
		out := make([]DecisionRecord, 0, len(ds))
		for _, d := range ds {
			out = append(out, DecisionRecord{Artifact: d.Artifact, Deployment: deploymentOf(d)})
		}
		return out, nil
	}
}

// deploymentOf is a verified decision record as the report lists it.
func deploymentOf(d gate.Deployment) Deployment {
	out := Deployment{ID: d.ID, Environment: d.Environment, Allowed: d.Allowed, DecidedAt: d.DecidedAt.UTC(),
		Source: d.Source, Requester: d.Requester, VSA: d.VSA, SLSALevel: d.SLSALevel}
	if w := d.Workload; w != nil {
		out.Workload = w.Namespace + "/" + w.KindName()
	}
	return out
}
