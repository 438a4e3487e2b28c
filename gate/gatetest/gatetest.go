// Package gatetest stores gate records for tests of what reads them back
// (deployments, recheck, retention), as if an older server or a direct
// database write had stored them.
package gatetest

import (
	"strings"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/store"
)

// Subject is the statement subject the records are about: the image
// registry.example.com/payments/api with digest d ("sha256:<hex>").
func Subject(d string) attest.Subject {
	return attest.Subject{Name: "registry.example.com/payments/api", Digest: map[string]string{"sha256": strings.TrimPrefix(d, "sha256:")}}
}

// PutDecision stores a decision about digest d signed by key; an
// admission decision is about the workload payments/Deployment/api.
func PutDecision(t *testing.T, st store.Store, key *keys.PrivateKey, d, env string, allowed bool, at time.Time, source string) string {
	t.Helper()
	var wl *gate.Workload
	if source == gate.AdmissionSource {
		wl = &gate.Workload{Namespace: "payments", Kind: "Deployment", Name: "api"}
	}
	return PutWorkload(t, st, key, d, env, allowed, at, source, wl)
}

// PutWorkload is PutDecision about the workload wl (nil: none recorded).
func PutWorkload(t *testing.T, st store.Store, key *keys.PrivateKey, d, env string, allowed bool, at time.Time, source string, wl *gate.Workload) string {
	t.Helper()
	dec := gate.Decision{Artifact: policy.Artifact{Digest: digest.MustParse(d)}, Environment: env, Allowed: allowed, DecidedAt: at, Source: source, Workload: wl,
		Violations: []policy.Violation{}, Evidence: []string{}, Ignored: []policy.Ignored{}}
	rec, err := st.Put(t.Context(), attesttest.Verified(t, key, gate.DecisionPredicateType, dec, Subject(d)))
	if err != nil {
		t.Fatal(err)
	}
	return rec.ID
}
