package compliance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/tee"
	"github.com/hallmark-dev/hallmark/trust"
)

// ErrBadRequest is returned by Generate when its Request is incomplete.
var ErrBadRequest = errors.New("compliance: bad request")

// DecisionLister lists the verified gate decision records about an
// environment, optionally only those about one artifact digest. The caller
// verifies them against the trust file and decides what to do with records
// that do not verify.
type DecisionLister func(ctx context.Context, env string, artifact digest.Digest) ([]DecisionRecord, error)

// DecisionRecord is one verified gate decision record and the artifact it
// is about.
type DecisionRecord struct {
	Artifact policy.Artifact
	Deployment
}

// Request says what Generate reports on and what it judges with.
type Request struct {
	Trust       *trust.Trust
	Policy      *policy.Policy // the environment's compiled policy
	TEE         *tee.Registry  // may be nil
	TEERefs     *tee.ReferenceValues
	Environment string
	// Artifact is the one artifact reported on; with a zero Digest every
	// artifact an allowing decision in range names is.
	Artifact     policy.Artifact
	Since, Until *time.Time
	// Now is the judging time when Until is nil.
	Now       time.Time
	Decisions DecisionLister
	// Requester and Source are what the gate's dry run is asked by
	// (e.g. "hallmark report", "cli").
	Requester, Source string
	// Bundles are extra evidence per artifact digest, besides the store's.
	Bundles map[string][][]byte
	// Published returns the disclosure dates of the report's
	// vulnerabilities (AddVulnerabilityHandling); nil adds no handling.
	Published func(*Report) map[string]time.Time
	// Verify are extra options for verifying the evidence (e.g.
	// attest.WithTrustedRoot), as the gate's gate.WithVerifyOptions.
	Verify []attest.VerifyOption
}

// Generate gathers the verified facts through the gate (a dry run: nothing
// is recorded) and judges the mapping's controls on them. It also returns
// the policy inputs the gate evaluated, by artifact digest. The CLI's
// report and export and the dashboard all call it.
func Generate(ctx context.Context, st store.Store, req Request) (*Report, map[string]policy.Input, error) {
	if st == nil || req.Trust == nil || req.Policy == nil || req.Decisions == nil || req.Environment == "" {
		return nil, nil, fmt.Errorf("%w: a store, trust file, policy, decision lister and environment are required", ErrBadRequest)
	}
	m, err := Load()
	if err != nil {
		return nil, nil, err
	}
	now, since, until, artifact, tr := req.Now, req.Since, req.Until, req.Artifact, req.Trust
	if until != nil {
		now = *until
	}
	ds, err := req.Decisions(ctx, req.Environment, artifact.Digest)
	if err != nil {
		return nil, nil, fmt.Errorf("list decisions: %w", err)
	}
	inRange := func(t time.Time) bool {
		return (since == nil || !t.Before(*since)) && (until == nil || !t.After(*until))
	}
	byArtifact := map[digest.Digest][]Deployment{}
	names := map[digest.Digest]string{}
	var digests []digest.Digest
	if !artifact.Digest.IsZero() {
		digests = []digest.Digest{artifact.Digest}
		names[artifact.Digest] = artifact.Name
	}
	for _, d := range ds {
		if !inRange(d.DecidedAt) {
			continue
		}
		dg := d.Artifact.Digest
		if artifact.Digest.IsZero() && d.Allowed && !slices.Contains(digests, dg) {
			digests = append(digests, dg)
		}
		if names[dg] == "" {
			names[dg] = d.Artifact.Name
		}
		byArtifact[dg] = append(byArtifact[dg], d.Deployment)
	}
	slices.SortFunc(digests, func(a, b digest.Digest) int { return strings.Compare(a.String(), b.String()) })
	// The gate needs a key to sign records; a dry run signs and records
	// nothing, so a throwaway key serves.
	throwaway, err := keys.Generate(keys.Ed25519)
	if err != nil {
		return nil, nil, err
	}
	g, err := gate.New(st, tr, map[string]*policy.Policy{req.Environment: req.Policy}, throwaway,
		gate.WithClock(func() time.Time { return now }), gate.WithTEE(req.TEE, req.TEERefs), gate.WithVerifyOptions(req.Verify...))
	if err != nil {
		return nil, nil, err
	}
	enforced := EnforcedRules(req.Policy)
	var facts []Facts
	inputs := map[string]policy.Input{}
	for _, dg := range digests {
		res, err := g.Evaluate(ctx, gate.Request{Artifact: policy.Artifact{Digest: dg, Name: names[dg]}, Environment: req.Environment,
			Requester: req.Requester, Source: req.Source, Bundles: req.Bundles[dg.String()], DryRun: true})
		if err != nil {
			return nil, nil, fmt.Errorf("evaluate %s: %w", dg, err)
		}
		inputs[dg.String()] = res.Input
		facts = append(facts, Facts{Input: res.Input, Decision: res.Decision, EnforcedRules: enforced, Deployments: byArtifact[dg], SignerName: tr.Name})
	}
	r := Build(m, Scope{Artifact: artifact.Digest.String(), Environment: req.Environment, Since: since, Until: until}, now, facts)
	if req.Published != nil {
		AddVulnerabilityHandling(r, req.Published(r))
	}
	return r, inputs, nil
}

// EnforcedRules returns the rule groups a built-in preset policy enforces,
// read from its data document; nil for any other policy.
func EnforcedRules(p *policy.Policy) []string {
	if p.Entrypoint() != policy.BuiltinEntrypoint {
		return nil
	}
	var data struct {
		Hallmark struct {
			Params struct {
				Rules []string `json:"rules"`
			} `json:"params"`
		} `json:"hallmark"`
	}
	if json.Unmarshal(p.DataJSON(), &data) != nil {
		return nil
	}
	return data.Hallmark.Params.Rules
}
