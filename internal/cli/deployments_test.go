package cli

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/store/sqlite"
	"github.com/hallmark-dev/hallmark/trust"
)

// gateAndScannerKeys writes a gate key (DIR/gate.key, passphrase
// "test-pass") and a scanner key to dir, and the trust file naming them.
func gateAndScannerKeys(t *testing.T, dir string) (gk, scanner *keys.PrivateKey, trustFile string) {
	t.Helper()
	gk, scanner = attesttest.Key(t, keys.Ed25519), attesttest.Key(t, keys.Ed25519)
	for name, k := range map[string]*keys.PrivateKey{"gate": gk, "scanner": scanner} {
		if _, _, err := keys.WriteFiles(filepath.Join(dir, name), k, []byte("test-pass")); err != nil {
			t.Fatal(err)
		}
	}
	trustFile = writeFile(t, filepath.Join(dir, "trust.yaml"),
		"version: 1\nkeys:\n  - {name: gate, publicKey: gate.pub, roles: [gate]}\n  - {name: scanner, publicKey: scanner.pub, roles: [scanner]}\n")
	return gk, scanner, trustFile
}

// TestDeploymentsLsLocal: the local listing needs the trust file, lists
// only gate-signed decisions, newest first, says on stderr which stored
// decisions it ignored and why, and honours --limit.
func TestDeploymentsLsLocal(t *testing.T) {
	ta := newTestApp(t)
	dir := t.TempDir()
	gk, scanner, trustFile := gateAndScannerKeys(t, dir)

	clock := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	st, err := sqlite.Open(t.Context(), filepath.Join(ta.env[StoreEnv], "evidence.db"), sqlite.WithClock(func() time.Time { return clock }))
	if err != nil {
		t.Fatal(err)
	}
	put := func(k *keys.PrivateKey, i int, allowed bool) string {
		t.Helper()
		sub := attesttest.Subject(fmt.Sprint("app-", i), []byte(fmt.Sprint(i)))
		d := gate.Decision{Artifact: policy.Artifact{Digest: attesttest.Digest(sub), Name: sub.Name}, Environment: "prod", Allowed: allowed,
			DecidedAt: clock, Source: "cli", Requester: fmt.Sprint("req-", i), Violations: []policy.Violation{}}
		rec, err := st.Put(t.Context(), attesttest.Verified(t, k, gate.DecisionPredicateType, d, sub))
		if err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(time.Minute)
		return rec.ID
	}
	put(gk, 1, true)
	forged := put(scanner, 2, true)
	put(gk, 3, false)
	put(gk, 4, true)
	st.Close()

	if code := ta.run("deployments", "ls", "--env", "prod"); code != ExitUsage || !strings.Contains(ta.errOut.String(), "--trust is required") {
		t.Fatalf("deployments ls without --trust: exit %d, %s", code, ta.errOut)
	}
	list := func(extra ...string) []gate.Deployment {
		t.Helper()
		ta.mustRun(t, append([]string{"deployments", "ls", "--env", "prod", "--trust", trustFile, "--format", "json"}, extra...)...)
		var ds []gate.Deployment
		if err := json.Unmarshal(ta.out.Bytes(), &ds); err != nil {
			t.Fatalf("%v\n%s", err, ta.out)
		}
		return ds
	}
	ds := list()
	var got []string
	for _, d := range ds {
		got = append(got, d.Requester)
	}
	if strings.Join(got, ",") != "req-4,req-3,req-1" {
		t.Errorf("listed %v, want the gate's three decisions newest first (req-4,req-3,req-1)", got)
	}
	if !strings.Contains(ta.errOut.String(), "ignored decision "+forged) || !strings.Contains(ta.errOut.String(), "gate") {
		t.Errorf("stderr does not name the forged decision and why:\n%s", ta.errOut)
	}
	if ds := list("--limit", "2"); len(ds) != 2 || ds[0].Requester != "req-4" || ds[1].Requester != "req-3" {
		t.Errorf("--limit 2 listed %+v", ds)
	}
	if code := ta.run("deployments", "ls", "--trust", trustFile, "--limit", "-1"); code != ExitUsage {
		t.Errorf("--limit -1: exit %d", code)
	}
}

// TestGateKeyWithoutGateRoleRefused: gate and recheck refuse a --key the
// trust file does not give the gate role, naming the key and the trust
// file, and record nothing. Attack (issue 16 item 10): such a key used to
// record decisions that deployments ls and recheck then ignored as forged.
func TestGateKeyWithoutGateRoleRefused(t *testing.T) {
	ta := newTestApp(t)
	dir := t.TempDir()
	k := attesttest.Key(t, keys.Ed25519)
	if _, _, err := keys.WriteFiles(filepath.Join(dir, "gate"), k, []byte("test-pass")); err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "gate.key")
	trustFile := writeFile(t, filepath.Join(dir, "trust.yaml"), "version: 1\nkeys:\n  - {name: gate, publicKey: gate.pub, roles: [approver]}\n")
	digest := "sha256:" + strings.Repeat("ab", 32)
	for _, args := range [][]string{
		{"gate", digest, "--env", "prod", "--trust", trustFile, "--key", keyFile},
		{"recheck", "--env", "prod", "--trust", trustFile, "--key", keyFile},
	} {
		code := ta.run(args...)
		msg := ta.errOut.String()
		if code != ExitBadInput || !strings.Contains(msg, k.Public().ID()) || !strings.Contains(msg, trustFile) || !strings.Contains(msg, `"gate" role`) {
			t.Errorf("%s with a key without the gate role: exit %d, want %d naming key and trust file:\n%s", args[0], code, ExitBadInput, msg)
		}
	}
	st, err := sqlite.Open(t.Context(), filepath.Join(ta.env[StoreEnv], "evidence.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if recs, err := st.List(t.Context(), store.Query{PredicateType: gate.DecisionPredicateType}); err != nil || len(recs) != 0 {
		t.Errorf("refused gate recorded %d decisions (%v)", len(recs), err)
	}
}

// TestDeploymentsLsDeployedAndRecheck: deployments ls --deployed and a
// local recheck follow what admission reviews allowed, not the latest
// verdict about a digest: a later deny by the CLI or the API does not make
// an admitted artifact disappear, and a CLI allow deploys nothing.
func TestDeploymentsLsDeployedAndRecheck(t *testing.T) {
	ta := newTestApp(t)
	dir := t.TempDir()
	gk := attesttest.Key(t, keys.Ed25519)
	if _, _, err := keys.WriteFiles(filepath.Join(dir, "gate"), gk, []byte("test-pass")); err != nil {
		t.Fatal(err)
	}
	trustFile := writeFile(t, filepath.Join(dir, "trust.yaml"), "version: 1\nkeys:\n  - {name: gate, publicKey: gate.pub, roles: [gate]}\n")
	clock := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	st, err := sqlite.Open(t.Context(), filepath.Join(ta.env[StoreEnv], "evidence.db"))
	if err != nil {
		t.Fatal(err)
	}
	admitted := attesttest.Subject("api", []byte("api"))
	checked := attesttest.Subject("tool", []byte("tool"))
	put := func(sub attest.Subject, allowed bool, source string, wl *gate.Workload) {
		t.Helper()
		d := gate.Decision{Artifact: policy.Artifact{Digest: attesttest.Digest(sub), Name: sub.Name}, Environment: "prod", Allowed: allowed,
			DecidedAt: clock, Source: source, Workload: wl, Violations: []policy.Violation{}}
		if _, err := st.Put(t.Context(), attesttest.Verified(t, gk, gate.DecisionPredicateType, d, sub)); err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(time.Minute)
	}
	put(admitted, true, gate.AdmissionSource, &gate.Workload{Namespace: "payments", Kind: "Deployment", Name: "api"})
	put(admitted, false, "api", nil)
	put(admitted, false, "cli", nil)
	put(checked, true, "cli", nil)
	st.Close()

	ta.mustRun(t, "deployments", "ls", "--deployed", "--trust", trustFile, "--format", "json")
	var rs []gate.Running
	if err := json.Unmarshal(ta.out.Bytes(), &rs); err != nil {
		t.Fatalf("%v\n%s", err, ta.out)
	}
	if len(rs) != 1 || rs[0].Artifact.Name != "api" || rs[0].Workload.Namespace != "payments" || rs[0].Workload.Name != "api" {
		t.Fatalf("deployed %+v, want only api in payments", rs)
	}
	ta.mustRun(t, "deployments", "ls", "--deployed", "--trust", trustFile)
	if !strings.Contains(ta.out.String(), "payments") || !strings.Contains(ta.out.String(), "Deployment/api") {
		t.Errorf("table:\n%s", ta.out)
	}
	if code := ta.run("deployments", "ls", "--deployed", "--trust", trustFile, "--artifact", "sha256:"+admitted.Digest["sha256"]); code != ExitUsage {
		t.Errorf("--deployed --artifact: exit %d, want %d", code, ExitUsage)
	}
	// Recheck re-evaluates api (the built-in preset denies it: no
	// evidence), and nothing else.
	code := ta.run("recheck", "--trust", trustFile, "--key", filepath.Join(dir, "gate.key"), "--env", "prod", "--format", "json")
	var rc []gate.Recheck
	if err := json.Unmarshal(ta.out.Bytes(), &rc); err != nil {
		t.Fatalf("recheck exit %d: %v\n%s\n%s", code, err, ta.out, ta.errOut)
	}
	if code != ExitRejected || len(rc) != 1 || rc[0].Artifact.Name != "api" || len(rc[0].Workloads) != 1 {
		t.Fatalf("recheck: exit %d, %+v", code, rc)
	}
}

// TestRecheckUsesProjectParameters: recheck judges with the policy gate
// decides with. Both assemble the gate through gate.Open now; before,
// `hallmark gate` parameterised the built-in presets by the project
// (repository, default branch) and `hallmark recheck --trust` did not, so
// a recheck evaluated another policy than the one that had admitted the
// artifact (issue 17.2).
func TestRecheckUsesProjectParameters(t *testing.T) {
	ta := newTestApp(t)
	dir := t.TempDir()
	gk := attesttest.Key(t, keys.Ed25519)
	if _, _, err := keys.WriteFiles(filepath.Join(dir, "gate"), gk, []byte("test-pass")); err != nil {
		t.Fatal(err)
	}
	trustFile := writeFile(t, filepath.Join(dir, "trust.yaml"), "version: 1\nkeys:\n  - {name: gate, publicKey: gate.pub, roles: [gate]}\n")
	ta.env[ProjectEnv] = writeFile(t, filepath.Join(dir, ProjectFile),
		"version: 1\nproject: {name: app, repository: https://example.com/org/app, defaultBranch: trunk}\n")
	st, err := sqlite.Open(t.Context(), filepath.Join(ta.env[StoreEnv], "evidence.db"))
	if err != nil {
		t.Fatal(err)
	}
	sub := attesttest.Subject("api", []byte("api"))
	d := gate.Decision{Artifact: policy.Artifact{Digest: attesttest.Digest(sub), Name: sub.Name}, Environment: "prod", Allowed: true,
		DecidedAt: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC), Source: gate.AdmissionSource,
		Workload: &gate.Workload{Namespace: "payments", Kind: "Deployment", Name: "api"}, Violations: []policy.Violation{}}
	if _, err := st.Put(t.Context(), attesttest.Verified(t, gk, gate.DecisionPredicateType, d, sub)); err != nil {
		t.Fatal(err)
	}
	st.Close()

	want, err := policy.LoadSpec(t.Context(), "prod", "builtin", policy.WithProject(policy.Project{Repository: "https://example.com/org/app", DefaultBranch: "trunk"}))
	if err != nil {
		t.Fatal(err)
	}
	ta.run("recheck", "--trust", trustFile, "--key", filepath.Join(dir, "gate.key"), "--env", "prod", "--format", "json")
	var rc []gate.Recheck
	if err := json.Unmarshal(ta.out.Bytes(), &rc); err != nil || len(rc) != 1 || rc[0].Decision == "" {
		t.Fatalf("recheck: %v\n%s\n%s", err, ta.out, ta.errOut)
	}
	st, err = sqlite.Open(t.Context(), filepath.Join(ta.env[StoreEnv], "evidence.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rec, err := st.Get(t.Context(), rc[0].Decision)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := trust.Load(trustFile)
	if err != nil {
		t.Fatal(err)
	}
	got, err := gate.ReadDecision(t.Context(), rec.Bundle, tr)
	if err != nil {
		t.Fatal(err)
	}
	if got.Policy.Digest != want.Digest() {
		t.Errorf("recheck judged with policy %s (%s), want the project-parameterised built-in prod policy %s", got.Policy.Digest, got.Policy.URI, want.Digest())
	}
}
