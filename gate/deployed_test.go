package gate_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	digestpkg "github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/gate/gatetest"

	"github.com/google/go-cmp/cmp"

	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/store/postgres"
	"github.com/hallmark-dev/hallmark/store/postgres/pgtest"
	"github.com/hallmark-dev/hallmark/store/sqlite"
	"github.com/hallmark-dev/hallmark/trust"
)

const (
	digestA = "sha256:0c1196ea055ea23e31107bb2a5e4623c136b09309d9d469363ecfe6984b6de37"
	digestB = "sha256:a22f7639e80e8d43eb0104bf8d9914013c66ea04766834566d633ff3726b5ed5"
	digestC = "sha256:87887e5af0b8cc4b42328939418e3a1a41121731dd8cd50b66a1b8ecec1bb0e3"
)

// bothStores runs f against a real SQLite file and a real PostgreSQL schema.
func bothStores(t *testing.T, f func(t *testing.T, st store.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "evidence.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		f(t, st)
	})
	t.Run("postgres", func(t *testing.T) {
		st, err := postgres.Open(t.Context(), pgtest.FreshSchema(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		f(t, st)
	})
}

// gateTrust returns a gate key and a trust file giving it the gate role.
func gateTrust(t *testing.T) (*keys.PrivateKey, *trust.Trust) {
	t.Helper()
	k := attesttest.Key(t, keys.Ed25519)
	tr, err := trust.Load(setupDir(t, k, "gate", false))
	if err != nil {
		t.Fatal(err)
	}
	return k, tr
}

// TestDeployedFollowsAdmissions: what is deployed is every (environment,
// workload, artifact) an admission review allowed, whatever was decided
// later about the digest elsewhere. Attack (issue 20 item 3): recheck kept
// only the latest decision per (digest, environment), so an artifact
// admitted in one namespace and later denied in another, by POST /v1/gate,
// by the CLI or by a recheck was no longer rechecked, though it still ran.
func TestDeployedFollowsAdmissions(t *testing.T) {
	bothStores(t, func(t *testing.T, st store.Store) {
		gateKey, tr := gateTrust(t)
		t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		api := &gate.Workload{Namespace: "payments", Kind: "Deployment", Name: "api"}
		web := &gate.Workload{Namespace: "shop", Kind: "Deployment", Name: "web"}
		// A: admitted for api, then denied everywhere else: still deployed.
		gatetest.PutWorkload(t, st, gateKey, digestA, "prod", true, t0, gate.AdmissionSource, api)
		gatetest.PutWorkload(t, st, gateKey, digestA, "prod", false, t0.Add(time.Hour), gate.AdmissionSource, web)
		gatetest.PutDecision(t, st, gateKey, digestA, "prod", false, t0.Add(2*time.Hour), "api")
		gatetest.PutDecision(t, st, gateKey, digestA, "prod", false, t0.Add(3*time.Hour), "cli")
		gatetest.PutDecision(t, st, gateKey, digestA, "prod", false, t0.Add(4*time.Hour), gate.RecheckSource)
		// A again for api later: one entry, the latest admission.
		gatetest.PutWorkload(t, st, gateKey, digestA, "prod", true, t0.Add(5*time.Hour), gate.AdmissionSource, api)
		// B: allowed by the API and the CLI only: checks, not deployments.
		gatetest.PutDecision(t, st, gateKey, digestB, "prod", true, t0, "api")
		gatetest.PutDecision(t, st, gateKey, digestB, "prod", true, t0, "cli")
		// C: admitted in two workloads of staging, the deny stored later
		// but decided earlier changes nothing either.
		gatetest.PutWorkload(t, st, gateKey, digestC, "staging", true, t0.Add(time.Hour), gate.AdmissionSource, web)
		gatetest.PutWorkload(t, st, gateKey, digestC, "staging", true, t0, gate.AdmissionSource, api)
		gatetest.PutWorkload(t, st, gateKey, digestC, "staging", false, t0, gate.AdmissionSource, api)
		// A review in checkout allowed A but denied B: denied as a whole,
		// so it admitted neither.
		checkout := gate.Workload{Namespace: "checkout", Kind: "Pod", Review: "uid-1"}
		gatetest.PutWorkload(t, st, gateKey, digestA, "prod", true, t0, gate.AdmissionSource, &checkout)
		gatetest.PutWorkload(t, st, gateKey, digestB, "prod", false, t0, gate.AdmissionSource, &checkout)
		// An admission recorded before decisions carried the workload.
		gatetest.PutDecision(t, st, gateKey, digestB, "staging", true, t0, "")
		legacy := gate.Decision{Artifact: policy.Artifact{Digest: digestpkg.MustParse(digestB)}, Environment: "staging", Allowed: true, DecidedAt: t0, Source: gate.AdmissionSource,
			Requester: "system:serviceaccount:kube-system:replicaset-controller (Pod reports/)", Violations: []policy.Violation{}}
		if _, err := st.Put(t.Context(), attesttest.Verified(t, gateKey, gate.DecisionPredicateType, legacy, gatetest.Subject(digestB))); err != nil {
			t.Fatal(err)
		}
		running, ignored, err := gate.Deployed(t.Context(), st, tr)
		if err != nil || len(ignored) != 0 {
			t.Fatalf("gate.Deployed: %v, ignored %+v", err, ignored)
		}
		var got []string
		for _, r := range running {
			got = append(got, fmt.Sprintf("%s %s/%s/%s %s %s", r.Environment, r.Workload.Namespace, r.Workload.Kind, r.Workload.Name, r.Artifact.Digest.String()[:15], r.AdmittedAt.Sub(t0)))
		}
		want := []string{
			"prod payments/Deployment/api " + digestA[:15] + " 5h0m0s",
			"staging payments/Deployment/api " + digestC[:15] + " 0s",
			"staging reports/Pod/ " + digestB[:15] + " 0s",
			"staging shop/Deployment/web " + digestC[:15] + " 1h0m0s",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("deployed (-want +got):\n%s", diff)
		}
	})
}
