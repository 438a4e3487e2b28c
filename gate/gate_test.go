package gate_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
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
	"github.com/hallmark-dev/hallmark/store/sqlite"
	"github.com/hallmark-dev/hallmark/trust"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// approvalsPolicy is the built-in library with only the approvals rule:
// two distinct trusted approvers for this artifact and environment.
func approvalsPolicy(t testing.TB) *policy.Policy {
	t.Helper()
	preset, err := policy.ParsePreset([]byte("version: 1\nenvironments:\n  prod:\n    rules: [approvals]\n    approvals: {min: 2, maxAgeDays: 7}\n"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := policy.CompilePreset(t.Context(), preset, "prod")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

type fixture struct {
	st              store.Store
	g               *gate.Gate
	alice, bob, eve *keys.PrivateKey
	builder         *keys.PrivateKey
	gateKey         *keys.PrivateKey
	trust           *trust.Trust
	art             attest.Subject
	digest          digest.Digest
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{
		alice: attesttest.Key(t, keys.ECDSAP256), bob: attesttest.Key(t, keys.Ed25519),
		eve: attesttest.Key(t, keys.ECDSAP256), builder: attesttest.Key(t, keys.ECDSAP256),
	}
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "e.db"), sqlite.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f.st = st
	gateKey := attesttest.Key(t, keys.ECDSAP256)
	tr := trust.New(
		trust.Key{Name: "alice", Public: f.alice.Public(), Roles: []trust.Role{trust.RoleApprover}},
		trust.Key{Name: "bob", Public: f.bob.Public(), Roles: []trust.Role{trust.RoleApprover}},
		trust.Key{Name: "builder", Public: f.builder.Public(), Roles: []trust.Role{trust.RoleBuilder}},
		trust.Key{Name: "gate", Public: gateKey.Public(), Roles: []trust.Role{trust.RoleGate}},
	)
	f.gateKey, f.trust = gateKey, tr
	g, err := gate.New(st, tr, map[string]*policy.Policy{"prod": approvalsPolicy(t)}, gateKey, gate.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	f.g = g
	f.art = attesttest.Subject("app", []byte("the release"))
	f.digest = attesttest.Digest(f.art)
	return f
}

// approve stores a signed approval by key for env about subject.
func (f *fixture) approve(t testing.TB, key *keys.PrivateKey, env string, subject attest.Subject) {
	t.Helper()
	a, err := gate.NewApproval(attesttest.Digest(subject), env, "ok", now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	v := attesttest.Verified(t, key, gate.ApprovalPredicateType, a, subject)
	if _, err := f.st.Put(t.Context(), v); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) evaluate(t *testing.T, extra ...[]byte) *gate.Result {
	t.Helper()
	res, err := f.g.Evaluate(t.Context(), gate.Request{Artifact: policy.Artifact{Digest: f.digest, Name: "app"}, Environment: "prod", Requester: "ci", Source: "test", Bundles: extra, VSA: true})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestAllowRecordsVSAAndDecision(t *testing.T) {
	f := newFixture(t)
	f.approve(t, f.alice, "prod", f.art)
	f.approve(t, f.bob, "prod", f.art)
	res := f.evaluate(t)
	if !res.Decision.Allow {
		t.Fatalf("denied: %+v\nignored: %+v", res.Decision.Violations, res.Input.Ignored)
	}
	if len(res.Input.Evidence.Approvals) != 2 {
		t.Errorf("%d approvals used", len(res.Input.Evidence.Approvals))
	}
	vsaRecs, _ := f.st.List(t.Context(), store.Query{PredicateType: gate.VSAPredicateType, Subject: f.digest})
	decRecs, _ := f.st.List(t.Context(), store.Query{PredicateType: gate.DecisionPredicateType, Subject: f.digest})
	if len(vsaRecs) != 1 || len(decRecs) != 1 {
		t.Fatalf("%d VSAs and %d decisions stored", len(vsaRecs), len(decRecs))
	}
	_, payload, err := attest.InspectUnverified(vsaRecs[0].Bundle)
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Predicate map[string]any `json:"predicate"`
	}
	json.Unmarshal(payload, &st)
	for _, k := range []string{"verifier", "timeVerified", "resourceUri", "policy", "inputAttestations", "verificationResult", "verifiedLevels", "dependencyLevels", "slsaVersion"} {
		if _, ok := st.Predicate[k]; !ok {
			t.Errorf("VSA lacks %s: %v", k, st.Predicate)
		}
	}
	if st.Predicate["verificationResult"] != "PASSED" {
		t.Errorf("VSA result %v", st.Predicate["verificationResult"])
	}
	if n := len(st.Predicate["inputAttestations"].([]any)); n != 2 {
		t.Errorf("VSA lists %d input attestations, want 2", n)
	}
}

// listCounter counts the records the store hands the gate.
type listCounter struct {
	store.Store
	returned int
}

func (c *listCounter) List(ctx context.Context, q store.Query) ([]store.Record, error) {
	recs, err := c.Store.List(ctx, q)
	c.returned += len(recs)
	return recs, err
}

// TestOwnRecordsAreNotGathered: every decision stores a VSA and a decision
// about the artifact; the gate must not read them back as it gathers
// evidence, or an artifact admitted for months would cost more each time.
func TestOwnRecordsAreNotGathered(t *testing.T) {
	f := newFixture(t)
	f.approve(t, f.alice, "prod", f.art)
	f.approve(t, f.bob, "prod", f.art)
	counter := &listCounter{Store: f.st}
	g, err := gate.New(counter, f.trust, map[string]*policy.Policy{"prod": approvalsPolicy(t)}, f.gateKey, gate.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		counter.returned = 0
		res, err := g.Evaluate(t.Context(), gate.Request{Artifact: policy.Artifact{Digest: f.digest, Name: "app"}, Environment: "prod", Requester: "ci", Source: "test", VSA: true})
		if err != nil || !res.Decision.Allow {
			t.Fatalf("evaluation %d: %v %+v", i, err, res)
		}
		if counter.returned != 2 {
			t.Fatalf("evaluation %d gathered %d records, want the 2 approvals only", i, counter.returned)
		}
	}
	recs, err := f.st.List(t.Context(), store.Query{Subject: f.digest})
	if err != nil || len(recs) != 2+2*20 {
		t.Fatalf("store holds %d records (%v), want 2 approvals + 20 VSAs + 20 decisions", len(recs), err)
	}
}

func TestDenials(t *testing.T) {
	for _, tc := range []struct {
		name       string
		setup      func(t *testing.T, f *fixture) [][]byte
		wantIgnore string
	}{
		{"one approver only", func(t *testing.T, f *fixture) [][]byte {
			f.approve(t, f.alice, "prod", f.art)
			return nil
		}, ""},
		{"same approver twice counts once", func(t *testing.T, f *fixture) [][]byte {
			f.approve(t, f.alice, "prod", f.art)
			a, _ := gate.NewApproval(f.digest, "prod", "again", now.Add(-2*time.Hour))
			return [][]byte{attesttest.Bundle(t, f.alice, gate.ApprovalPredicateType, a, f.art)}
		}, ""},
		{"approval by an untrusted key", func(t *testing.T, f *fixture) [][]byte {
			f.approve(t, f.alice, "prod", f.art)
			a, _ := gate.NewApproval(f.digest, "prod", "", now)
			return [][]byte{attesttest.Bundle(t, f.eve, gate.ApprovalPredicateType, a, f.art)}
		}, "does not verify against any trusted key"},
		{"approval by a builder key (wrong role)", func(t *testing.T, f *fixture) [][]byte {
			f.approve(t, f.alice, "prod", f.art)
			a, _ := gate.NewApproval(f.digest, "prod", "", now)
			return [][]byte{attesttest.Bundle(t, f.builder, gate.ApprovalPredicateType, a, f.art)}
		}, "does not trust as approver"},
		{"approval for another environment", func(t *testing.T, f *fixture) [][]byte {
			f.approve(t, f.alice, "prod", f.art)
			f.approve(t, f.bob, "staging", f.art)
			return nil
		}, ""},
		{"approval about another artifact", func(t *testing.T, f *fixture) [][]byte {
			f.approve(t, f.alice, "prod", f.art)
			other := attesttest.Subject("other", []byte("other"))
			a, _ := gate.NewApproval(attesttest.Digest(other), "prod", "", now)
			return [][]byte{attesttest.Bundle(t, f.bob, gate.ApprovalPredicateType, a, other)}
		}, "not about this artifact"},
		{"tampered bundle", func(t *testing.T, f *fixture) [][]byte {
			f.approve(t, f.alice, "prod", f.art)
			a, _ := gate.NewApproval(f.digest, "prod", "", now)
			b := attesttest.Bundle(t, f.bob, gate.ApprovalPredicateType, a, f.art)
			return [][]byte{[]byte(strings.Replace(string(b), `"payload":"`, `"payload":"AA`, 1))}
		}, "does not verify"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			extra := tc.setup(t, f)
			res := f.evaluate(t, extra...)
			if res.Decision.Allow {
				t.Fatalf("allowed; input approvals: %+v", res.Input.Evidence.Approvals)
			}
			if len(res.Decision.Violations) == 0 || !strings.HasPrefix(res.Decision.Violations[0].RuleID, "approvals") {
				t.Errorf("violations: %+v", res.Decision.Violations)
			}
			if tc.wantIgnore != "" {
				found := false
				for _, ig := range res.Input.Ignored {
					found = found || strings.Contains(ig.Reason, tc.wantIgnore)
				}
				if !found {
					t.Errorf("no ignored evidence with reason %q: %+v", tc.wantIgnore, res.Input.Ignored)
				}
			}
			decs, _ := f.st.List(t.Context(), store.Query{PredicateType: gate.DecisionPredicateType})
			if len(decs) != 1 {
				t.Errorf("deny was not recorded: %d decision records", len(decs))
			}
		})
	}
}

func TestFailsClosed(t *testing.T) {
	f := newFixture(t)
	if _, err := f.g.Evaluate(t.Context(), gate.Request{Artifact: policy.Artifact{Digest: f.digest}, Environment: "moon"}); !errors.Is(err, gate.ErrUnknownEnvironment) {
		t.Errorf("unknown environment: %v", err)
	}
	// The zero digest is the only one digest.Parse lets through that the
	// gate refuses: sha256 and sha512 (npm tarballs) are both decided on.
	for _, d := range []digest.Digest{{}} {
		if _, err := f.g.Evaluate(t.Context(), gate.Request{Artifact: policy.Artifact{Digest: d}, Environment: "prod"}); !errors.Is(err, gate.ErrBadDigest) {
			t.Errorf("digest %q: %v, want ErrBadDigest", d, err)
		}
	}
	f.st.Close()
	if _, err := f.g.Evaluate(t.Context(), gate.Request{Artifact: policy.Artifact{Digest: f.digest}, Environment: "prod"}); err == nil {
		t.Error("a closed store did not fail the gate")
	}
}

// TestVerifiedCache: with a cache, evidence verified once keeps counting;
// Remember takes only evidence signed by keys of the gate's trust file,
// and only under the ID of its exact bytes.
func TestVerifiedCache(t *testing.T) {
	f := newFixture(t)
	g, err := gate.New(f.st, f.trust, map[string]*policy.Policy{"prod": approvalsPolicy(t)}, f.gateKey,
		gate.WithClock(func() time.Time { return now }), gate.WithVerifiedCache(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	eval := func() *gate.Result {
		t.Helper()
		res, err := g.Evaluate(t.Context(), gate.Request{Artifact: policy.Artifact{Digest: f.digest, Name: "app"}, Environment: "prod", Requester: "ci", Source: "test"})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	a, err := gate.NewApproval(f.digest, "prod", "ok", now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// Signed by a key the trust file does not hold, but "verified" against
	// that key by a careless caller: Remember must not let it in.
	forged := attesttest.Verified(t, f.eve, gate.ApprovalPredicateType, a, f.art)
	g.Remember(forged)
	// Another trusted approval (about another artifact) under the ID of
	// alice's: Remember must not cache it under an ID its bytes do not have.
	good := attesttest.Verified(t, f.alice, gate.ApprovalPredicateType, a, f.art)
	other := attesttest.Verified(t, f.alice, gate.ApprovalPredicateType, a, attesttest.Subject("other", []byte("other")))
	g.Remember(&attest.Verified{ID: good.ID, Raw: other.Raw, Statement: other.Statement, PredicateType: other.PredicateType, Payload: other.Payload, Signers: other.Signers})
	for _, v := range []*attest.Verified{forged, good} {
		if _, err := f.st.Put(t.Context(), v); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		res := eval()
		if len(res.Input.Evidence.Approvals) != 1 || res.Decision.Allow {
			t.Fatalf("evaluation %d: %d approvals counted, allow=%v; want alice's only", i, len(res.Input.Evidence.Approvals), res.Decision.Allow)
		}
		if len(res.Input.Ignored) != 1 || res.Input.Ignored[0].ID != forged.ID || !strings.Contains(res.Input.Ignored[0].Reason, "does not verify against any trusted key") {
			t.Fatalf("evaluation %d: ignored %+v; want eve's approval as not verifying", i, res.Input.Ignored)
		}
	}
	f.approve(t, f.bob, "prod", f.art)
	if res := eval(); !res.Decision.Allow || len(res.Input.Evidence.Approvals) != 2 {
		t.Fatalf("after bob's approval: allow=%v with %d approvals", res.Decision.Allow, len(res.Input.Evidence.Approvals))
	}
}

// BenchmarkVerifiedCache compares, in one run, an evaluation over eleven
// stored approvals that verifies each (cold) with one that finds them in
// the cache (warm).
func BenchmarkVerifiedCache(b *testing.B) {
	for _, entries := range []int64{0, 1 << 20} {
		name := "cold"
		if entries > 0 {
			name = "warm"
		}
		b.Run(name, func(b *testing.B) {
			f := newFixture(b)
			g, err := gate.New(f.st, f.trust, map[string]*policy.Policy{"prod": approvalsPolicy(b)}, f.gateKey,
				gate.WithClock(func() time.Time { return now }), gate.WithVerifiedCache(entries))
			if err != nil {
				b.Fatal(err)
			}
			for range 10 {
				f.approve(b, f.alice, "prod", f.art)
				f.approve(b, f.bob, "prod", f.art)
			}
			req := gate.Request{Artifact: policy.Artifact{Digest: f.digest, Name: "app"}, Environment: "prod", Source: "bench"}
			for b.Loop() {
				if res, err := g.Evaluate(b.Context(), req); err != nil || !res.Decision.Allow {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestAttackPredicateKeyCase reproduces issue #20.4: encoding/json matches
// keys case-insensitively and keeps the last, so a signed approval that jq,
// OPA and a reviewer read as one for staging (or artifact B) counted for
// prod (or artifact A). Such approvals must be refused, not read.
func TestAttackPredicateKeyCase(t *testing.T) {
	approvedAt := now.Add(-time.Hour).Format(time.RFC3339)
	other := "sha256:" + attesttest.Subject("b", []byte("other")).Digest["sha256"]
	// Raw JSON, so the key order is the attacker's: encoding/json keeps the
	// last key that folds to a field.
	cases := []struct {
		name string
		pred func(f *fixture) string
	}{
		{"environment then Environment", func(f *fixture) string {
			return `{"artifact":"` + f.digest.String() + `","environment":"staging","Environment":"prod","approvedAt":"` + approvedAt + `"}`
		}},
		{"artifact then ARTIFACT", func(f *fixture) string {
			return `{"artifact":"` + other + `","ARTIFACT":"` + f.digest.String() + `","environment":"prod","approvedAt":"` + approvedAt + `"}`
		}},
		{"only Environment", func(f *fixture) string {
			return `{"artifact":"` + f.digest.String() + `","Environment":"prod","approvedAt":"` + approvedAt + `"}`
		}},
		// The old reader lower-cased the artifact and counted the approval;
		// a signed digest has one spelling, the one digest.Parse reads.
		{"upper-case artifact digest", func(f *fixture) string {
			return `{"artifact":"sha256:` + strings.ToUpper(f.digest.Hex()) + `","environment":"prod","approvedAt":"` + approvedAt + `"}`
		}},
		{"unknown key in a closed schema", func(f *fixture) string {
			return `{"artifact":"` + f.digest.String() + `","environment":"prod","approvedAt":"` + approvedAt + `","expires":"2000-01-01T00:00:00Z"}`
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			for _, k := range []*keys.PrivateKey{f.alice, f.bob} {
				v := attesttest.Verified(t, k, gate.ApprovalPredicateType, json.RawMessage(c.pred(f)), f.art)
				if _, err := f.st.Put(t.Context(), v); err != nil {
					t.Fatal(err)
				}
			}
			res := f.evaluate(t)
			if len(res.Input.Evidence.Approvals) != 0 {
				t.Errorf("approvals read: %+v", res.Input.Evidence.Approvals)
			}
			if res.Decision.Allow {
				t.Fatalf("allowed on approvals a case-sensitive reader does not see for prod")
			}
			if len(res.Input.Ignored) != 2 || !strings.Contains(res.Input.Ignored[0].Reason, "unreadable predicate") {
				t.Errorf("ignored = %+v, want both approvals ignored as unreadable", res.Input.Ignored)
			}
		})
	}
}

// TestAttackDenyListBypass reproduces issue #20.7: a deny list written as
// the purl spec and SPDX spell things was escaped by qualifiers
// ("?type=jar"), a subpath, name case where the purl type is
// case-insensitive ("pkg:pypi/CTX"), and licence ID case ("agpl-3.0-only").
func TestAttackDenyListBypass(t *testing.T) {
	preset, err := policy.ParsePreset([]byte(`version: 1
environments:
  prod:
    rules: [licenses, dependencies]
    licenses: {denied: [AGPL-3.0-only, gpl-3.0]}
    dependencies: {denied: ["pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", "pkg:pypi/ctx@*", "pkg:pypi/python-dateutil", "pkg:npm/@evil/*", "pkg:golang/github.com/Evil/*"]}
`))
	if err != nil {
		t.Fatal(err)
	}
	pol, err := policy.CompilePreset(t.Context(), preset, "prod")
	if err != nil {
		t.Fatal(err)
	}
	component := func(purl, licence string) map[string]any {
		return map[string]any{"type": "library", "name": "x", "version": "1", "purl": purl, "licenses": []any{map[string]any{"license": map[string]any{"id": licence}}}}
	}
	cases := []struct {
		name      string
		component map[string]any
		want      string // rule ID, "" for allow
	}{
		{"maven qualifier", component("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar", "Apache-2.0"), "dependencies.denied"},
		{"maven subpath", component("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1#META-INF", "Apache-2.0"), "dependencies.denied"},
		{"pypi name case", component("pkg:pypi/CTX@0.1.2", "MIT"), "dependencies.denied"},
		{"pypi separators", component("pkg:pypi/Python_DateUtil@2.8.2", "MIT"), "dependencies.denied"},
		{"npm scope escaped and cased", component("pkg:npm/%40Evil/pkg@1.0.0", "MIT"), "dependencies.denied"},
		{"licence id case", component("pkg:npm/ok@1.0.0", "agpl-3.0-only"), "licenses.denied"},
		{"deprecated licence id for a denied one", component("pkg:npm/ok@1.0.0", "GPL-3.0-only"), "licenses.denied"},
		{"licence expression case", map[string]any{"type": "library", "name": "x", "purl": "pkg:npm/ok@1", "licenses": []any{map[string]any{"expression": "mit OR agpl-3.0-only"}}}, "licenses.denied"},
		// Go module paths are case-sensitive: another module, not a bypass.
		{"go module of another case", component("pkg:golang/github.com/evil/mod@v1.0.0", "MIT"), ""},
		{"go module of the denied case", component("pkg:golang/github.com/Evil/mod@v1.0.0", "MIT"), "dependencies.denied"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			scanner := attesttest.Key(t, keys.ECDSAP256)
			tr := trust.New(trust.Key{Name: "scanner", Public: scanner.Public(), Roles: []trust.Role{trust.RoleScanner}},
				trust.Key{Name: "gate", Public: f.gateKey.Public(), Roles: []trust.Role{trust.RoleGate}})
			g, err := gate.New(f.st, tr, map[string]*policy.Policy{"prod": pol}, f.gateKey, gate.WithClock(func() time.Time { return now }))
			if err != nil {
				t.Fatal(err)
			}
			bom := map[string]any{"bomFormat": "CycloneDX", "specVersion": "1.6", "metadata": map[string]any{"timestamp": now.Format(time.RFC3339)}, "components": []any{c.component}}
			b := attesttest.Bundle(t, scanner, gate.CycloneDXPredicateType, bom, f.art)
			res, err := g.Evaluate(t.Context(), gate.Request{Artifact: policy.Artifact{Digest: f.digest, Name: "app"}, Environment: "prod", Bundles: [][]byte{b}})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, v := range res.Decision.Violations {
				got = append(got, v.RuleID)
			}
			if c.want == "" && len(got) > 0 || c.want != "" && !slices.Contains(got, c.want) {
				t.Fatalf("violations %v, want %q (ignored: %+v)", got, c.want, res.Input.Ignored)
			}
		})
	}
}
