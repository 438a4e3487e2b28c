package gate_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/provenance"
	"github.com/hallmark-dev/hallmark/store/sqlite"
	"github.com/hallmark-dev/hallmark/tee"
	"github.com/hallmark-dev/hallmark/tee/sevsnp/sevsnptest"
	"github.com/hallmark-dev/hallmark/tee/teetest"
	"github.com/hallmark-dev/hallmark/trust"
)

// TestTEEEvidenceReachesPolicy: a TEE attestation whose quote binds the
// artifact's trusted provenance is re-verified by the gate and its claims
// reach the policy; one bound to another provenance is ignored.
func TestTEEEvidenceReachesPolicy(t *testing.T) {
	at := teetest.Today.AddDate(0, 0, 1)
	builder := attesttest.Key(t, keys.ECDSAP256)
	art := attesttest.Subject("app", []byte("confidential build"))
	facts := provenance.Facts{
		InvocationID: "0b0e6d36-6a43-4c53-9d36-2f4f6c1d9a51", Command: []string{"make"},
		Source:    provenance.Source{URI: "git+https://example.com/app", Commit: strings.Repeat("a", 40)},
		Sandbox:   provenance.Sandbox{Requested: "on", Applied: true},
		StartedOn: at.Add(-time.Minute), FinishedOn: at.Add(-time.Second),
		Products: []provenance.Artifact{{Name: "app", Digest: map[string]string{"sha256": art.Digest["sha256"]}}},
	}
	st, err := provenance.Statement(facts)
	if err != nil {
		t.Fatal(err)
	}
	provRaw, err := attest.Sign(t.Context(), builder, st)
	if err != nil {
		t.Fatal(err)
	}
	prov, err := attest.Verify(t.Context(), provRaw, attest.NewKeySet(builder.Public()))
	if err != nil {
		t.Fatal(err)
	}

	dev := sevsnptest.NewDevice(t, teetest.Today)
	quote := func(pae []byte) []byte {
		var nonce [tee.NonceSize]byte
		ev, err := dev.Collect(t.Context(), tee.BindingFromPAE(pae, nonce).ReportData())
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	reg, err := tee.NewRegistry(dev.Verifier(t))
	if err != nil {
		t.Fatal(err)
	}
	claims, err := reg.Verify(t.Context(), tee.SEVSNP, quote(prov.PAE()), tee.VerifyOptions{Time: at, AllowDebugUnsafe: true})
	if err != nil {
		t.Fatal(err)
	}
	teeBundle := func(pae []byte) []byte {
		var nonce [tee.NonceSize]byte
		b := tee.BindingFromPAE(pae, nonce)
		pred := tee.NewPredicate(claims, quote(pae), b)
		return attesttest.Bundle(t, builder, tee.PredicateType, pred, art)
	}

	preset := "version: 1\nenvironments:\n  prod:\n    rules: [tee]\n    tee:\n      platforms: [sev-snp]\n      allowDebug: true\n      reference:\n        sev-snp:\n          measurement: [\"" + claims.Measurements["measurement"] + "\"]\n"
	p, err := policy.ParsePreset([]byte(preset))
	if err != nil {
		t.Fatal(err)
	}
	pol, err := policy.CompilePreset(t.Context(), p, "prod")
	if err != nil {
		t.Fatal(err)
	}
	st2, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "e.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	// Without a cache, and with one that the provenance entered at upload
	// (Remember) and that the second evaluation reads: the cached entry
	// keeps the PAE the quote binds to.
	for _, cached := range []bool{false, true} {
		opts := []gate.Option{gate.WithTEE(reg, nil), gate.WithClock(func() time.Time { return at })}
		if cached {
			opts = append(opts, gate.WithVerifiedCache(1<<20))
		}
		g, err := gate.New(st2, trust.New(trust.Key{Name: "b", Public: builder.Public(), Roles: []trust.Role{trust.RoleBuilder}}),
			map[string]*policy.Policy{"prod": pol}, attesttest.Key(t, keys.Ed25519), opts...)
		if err != nil {
			t.Fatal(err)
		}
		if cached {
			g.Remember(prov)
		}
		req := gate.Request{Artifact: policy.Artifact{Digest: attesttest.Digest(art)}, Environment: "prod"}

		bound := teeBundle(prov.PAE())
		for range 2 {
			req.Bundles = [][]byte{provRaw, bound}
			res, err := g.Evaluate(t.Context(), req)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Decision.Allow || len(res.Input.Evidence.TEE) != 1 || !res.Input.Evidence.TEE[0].Verified {
				j, _ := json.MarshalIndent(res.Input.Ignored, "", " ")
				t.Fatalf("cache %v: bound TEE evidence: allow=%v violations=%+v ignored=%s", cached, res.Decision.Allow, res.Decision.Violations, j)
			}
		}

		req.Bundles = [][]byte{provRaw, teeBundle([]byte("DSSEv1 some other provenance"))}
		res, err := g.Evaluate(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		if res.Decision.Allow || len(res.Input.Evidence.TEE) != 0 {
			t.Fatalf("cache %v: TEE evidence bound to another provenance was used: %+v", cached, res.Input.Evidence.TEE)
		}
		found := false
		for _, ig := range res.Input.Ignored {
			found = found || strings.Contains(ig.Reason, "TEE evidence does not verify")
		}
		if !found {
			t.Errorf("cache %v: no ignored TEE evidence with a reason: %+v", cached, res.Input.Ignored)
		}
	}
}
