package gate

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/trust"
)

// AdmissionSource is the Source of the decisions the admission webhook
// records; only its allows say that something was deployed.
const AdmissionSource = "admission"

// Running is one place an artifact was admitted to run: an environment and
// a workload (namespace, kind, name), with the latest admission that
// allowed it there.
type Running struct {
	Environment string          `json:"environment"`
	Workload    Workload        `json:"workload"`
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
func workloadOf(d Decision) Workload {
	if d.Workload != nil {
		return *d.Workload
	}
	if m := legacyWorkload.FindStringSubmatch(d.Requester); m != nil {
		return Workload{Kind: m[1], Namespace: m[2], Name: m[3]}
	}
	return Workload{}
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
//
// Decisions are read a page at a time (eachDecision): what is kept of them
// is the admission allows, each as the Running it may become, and the
// review UIDs of admission denials, so memory grows with what was
// admitted, not with the decisions recorded since (every recheck adds one
// per artifact).
func Deployed(ctx context.Context, st store.Store, tr *trust.Trust) ([]Running, []IgnoredDecision, error) {
	if tr == nil {
		return nil, nil, fmt.Errorf("list decisions: no trust file to verify them against")
	}
	type allow struct {
		Running
		review string
	}
	var allows []allow // newest stored first
	var ignored []IgnoredDecision
	// A review with a denied digest was denied as a whole: the allows
	// recorded for its other digests admitted nothing.
	deniedReviews := map[string]bool{}
	err := eachDecision(ctx, st, tr, digest.Digest{}, decisionPage, func(d Deployment) bool {
		if d.Source != AdmissionSource {
			return true
		}
		wl := workloadOf(d.Decision)
		if !d.Allowed {
			if wl.Review != "" {
				deniedReviews[wl.Review] = true
			}
			return true
		}
		review := wl.Review
		wl.Review = ""
		allows = append(allows, allow{Running{Environment: d.Environment, Workload: wl, Artifact: d.Artifact, AdmittedAt: d.DecidedAt, Decision: d.ID}, review})
		return true
	}, func(ig IgnoredDecision) { ignored = append(ignored, ig) })
	if err != nil {
		return nil, nil, err
	}
	type key struct {
		env    string
		w      Workload
		digest digest.Digest
	}
	latest := map[key]Running{}
	for _, a := range allows {
		if deniedReviews[a.review] {
			continue
		}
		k := key{a.Environment, a.Workload, a.Artifact.Digest}
		if prev, ok := latest[k]; !ok || a.AdmittedAt.After(prev.AdmittedAt) {
			latest[k] = a.Running
		}
	}
	out := make([]Running, 0, len(latest))
	for _, r := range latest {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Running) int {
		return cmp.Or(cmp.Compare(a.Environment, b.Environment), cmp.Compare(a.Workload.Namespace, b.Workload.Namespace),
			cmp.Compare(a.Workload.Kind, b.Workload.Kind), cmp.Compare(a.Workload.Name, b.Workload.Name),
			cmp.Compare(a.Artifact.Digest.String(), b.Artifact.Digest.String()))
	})
	return out, ignored, nil
}
