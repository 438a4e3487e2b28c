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
	"github.com/hallmark-dev/hallmark/store/sqlite"
	"github.com/hallmark-dev/hallmark/tlog"
	"github.com/hallmark-dev/hallmark/tlog/tlogtest"
	"github.com/hallmark-dev/hallmark/trust"
)

// TestFreshnessUsesVerifiedTime: approvals that claim to be an hour old but
// whose RFC 3161 timestamps say they are 30 days old are stale once the gate
// verifies against the trusted root; unlogged evidence is ignored.
func TestFreshnessUsesVerifiedTime(t *testing.T) {
	s := tlogtest.Start(t)
	tr, err := tlog.ParseRoot(s.Root)
	if err != nil {
		t.Fatal(err)
	}
	alice, bob := attesttest.Key(t, keys.ECDSAP256), attesttest.Key(t, keys.ECDSAP256)
	gateKey := attesttest.Key(t, keys.ECDSAP256)
	trusted := trust.New(
		trust.Key{Name: "alice", Public: alice.Public(), Roles: []trust.Role{trust.RoleApprover}},
		trust.Key{Name: "bob", Public: bob.Public(), Roles: []trust.Role{trust.RoleApprover}},
		trust.Key{Name: "gate", Public: gateKey.Public(), Roles: []trust.Role{trust.RoleGate}},
	)
	art := attesttest.Subject("app", []byte("the release"))
	dg := attesttest.Digest(art)
	signed := time.Now()
	later := signed.Add(30 * 24 * time.Hour) // the gate's clock
	approve := func(k *keys.PrivateKey, opts ...attest.SignOption) []byte {
		a, err := gate.NewApproval(dg, "prod", "ok", later.Add(-time.Hour)) // the claim
		if err != nil {
			t.Fatal(err)
		}
		pred, _ := json.Marshal(a)
		st, err := attest.NewStatement([]attest.Subject{art}, gate.ApprovalPredicateType, pred)
		if err != nil {
			t.Fatal(err)
		}
		b, err := attest.Sign(t.Context(), k, st, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	logged := []attest.SignOption{attest.WithTransparencyLog(s.Log.URL), attest.WithTimestampAuthority(s.TSA.URL)}
	bundles := [][]byte{approve(alice, logged...), approve(bob, logged...)}
	evaluate := func(opts ...gate.Option) *gate.Result {
		st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "e.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		g, err := gate.New(st, trusted, map[string]*policy.Policy{"prod": approvalsPolicy(t)}, gateKey, append(opts, gate.WithClock(func() time.Time { return later }))...)
		if err != nil {
			t.Fatal(err)
		}
		res, err := g.Evaluate(t.Context(), gate.Request{Artifact: policy.Artifact{Digest: dg, Name: "app"}, Environment: "prod", Requester: "ci", Source: "test", Bundles: bundles})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}

	if res := evaluate(); !res.Decision.Allow {
		t.Fatalf("without a trusted root the claimed times count, and they are fresh: denied %+v", res.Decision.Violations)
	}
	res := evaluate(gate.WithVerifyOptions(attest.WithTrustedRoot(tr)))
	if res.Decision.Allow {
		t.Fatal("allowed on approvals whose verified time is 30 days old")
	}
	if len(res.Input.Evidence.Approvals) != 2 {
		t.Fatalf("%d approvals in the input; ignored: %+v", len(res.Input.Evidence.Approvals), res.Input.Ignored)
	}
	for _, a := range res.Input.Evidence.Approvals {
		if d := a.Timestamp.Sub(signed); d < -time.Minute || d > time.Minute {
			t.Errorf("approval timestamp %s, want the verified time near %s", a.Timestamp, signed)
		}
	}

	bundles = [][]byte{approve(alice), approve(bob)}
	res = evaluate(gate.WithVerifyOptions(attest.WithTrustedRoot(tr)))
	if res.Decision.Allow || len(res.Input.Ignored) != 2 || !strings.Contains(res.Input.Ignored[0].Reason, "transparency") {
		t.Fatalf("unlogged approvals: allow %v, ignored %+v", res.Decision.Allow, res.Input.Ignored)
	}
}
