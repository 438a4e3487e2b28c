package gate_test

import (
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/store/sqlite"
)

// cacheWorld is a gate with a verification cache, opened with gate.Open
// from files as `hallmark serve` opens it, over a SQLite store holding one
// approval by alice, which the gate was told about (Remember) as the
// server does on upload.
type cacheWorld struct {
	dir, dbPath    string
	gateKey, alice *keys.PrivateKey
	approval       *attest.Verified
	digest         digest.Digest
}

func newCacheWorld(t *testing.T) *cacheWorld {
	t.Helper()
	w := &cacheWorld{dir: t.TempDir(), gateKey: attesttest.Key(t, keys.Ed25519), alice: attesttest.Key(t, keys.ECDSAP256)}
	w.dbPath = filepath.Join(w.dir, "e.db")
	for name, k := range map[string]*keys.PrivateKey{"gate.pub": w.gateKey, "alice.pub": w.alice} {
		if err := os.WriteFile(filepath.Join(w.dir, name), k.Public().MarshalPEM(), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	preset := "version: 1\nenvironments:\n  prod:\n    rules: [approvals]\n    approvals: {min: 1, maxAgeDays: 7}\n"
	if err := os.WriteFile(filepath.Join(w.dir, "policy.yaml"), []byte(preset), 0o600); err != nil {
		t.Fatal(err)
	}
	w.writeTrust(t, true)
	art := attesttest.Subject("app", []byte("the release"))
	w.digest = digest.MustParse("sha256:" + art.Digest["sha256"])
	a, err := gate.NewApproval(w.digest, "prod", "ok", now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	w.approval = attesttest.Verified(t, w.alice, gate.ApprovalPredicateType, a, art)
	return w
}

// writeTrust writes the trust file: the gate key, and alice as an approver
// unless she has been revoked.
func (w *cacheWorld) writeTrust(t *testing.T, withAlice bool) {
	t.Helper()
	role := ""
	if withAlice {
		role = "approver"
	}
	w.writeTrustRole(t, role)
}

// writeTrustRole writes the trust file with alice in role (none if "").
func (w *cacheWorld) writeTrustRole(t *testing.T, role string) {
	t.Helper()
	doc := "version: 1\nkeys:\n  - {name: gate, publicKey: gate.pub, roles: [gate]}\n"
	if role != "" {
		doc += "  - {name: alice, publicKey: alice.pub, roles: [" + role + "]}\n"
	}
	if err := os.WriteFile(filepath.Join(w.dir, "trust.yaml"), []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
}

// open opens the store and the gate from the files as they are now, stores
// the approval and tells the gate about it as an upload would.
func (w *cacheWorld) open(t *testing.T) *gate.Gate {
	t.Helper()
	g, st := w.openCold(t)
	if _, err := st.Put(t.Context(), w.approval); err != nil {
		t.Fatal(err)
	}
	g.Remember(w.approval)
	return g
}

// openCold opens the store and a gate with an empty verification cache
// over the files as they are now, without storing anything.
func (w *cacheWorld) openCold(t *testing.T) (*gate.Gate, *sqlite.Store) {
	t.Helper()
	st, err := sqlite.Open(t.Context(), w.dbPath, sqlite.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	g, err := gate.Open(t.Context(), st, gate.Setup{TrustFile: filepath.Join(w.dir, "trust.yaml"), Policies: map[string]string{"prod": filepath.Join(w.dir, "policy.yaml")}, Key: w.gateKey, KeyName: "test key"},
		gate.WithVerifiedCache(1<<20), gate.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	return g, st
}

func (w *cacheWorld) evaluate(t *testing.T, g *gate.Gate) *gate.Result {
	t.Helper()
	res, err := g.Evaluate(t.Context(), gate.Request{Artifact: policy.Artifact{Digest: w.digest, Name: "app"}, Environment: "prod", Requester: "ci", Source: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// ignoredBecause reports whether res ignored evidence id for a reason
// containing reason.
func ignoredBecause(res *gate.Result, id, reason string) bool {
	for _, ig := range res.Input.Ignored {
		if ig.ID == id && strings.Contains(ig.Reason, reason) {
			return true
		}
	}
	return false
}

// TestVerifiedCacheDropsRevokedKey: evidence the gate verified and cached
// under a trust file stops counting once its signer is removed from the
// trust file and the gate is reopened (a trust file reload), even though
// the server tells the new gate about the same upload again.
func TestVerifiedCacheDropsRevokedKey(t *testing.T) {
	w := newCacheWorld(t)
	g := w.open(t)
	for i := range 2 { // the second evaluation reads the cache
		if res := w.evaluate(t, g); !res.Decision.Allow {
			t.Fatalf("evaluation %d with alice trusted: denied: %+v", i, res.Decision.Violations)
		}
	}
	w.writeTrust(t, false)
	g = w.open(t)
	res := w.evaluate(t, g)
	if res.Decision.Allow {
		t.Fatal("after alice's key was revoked from the trust file, her cached approval still allowed the deployment")
	}
	if !ignoredBecause(res, w.approval.ID, "does not verify against any trusted key") {
		t.Errorf("the revoked key's approval is not listed as unverifiable: %+v", res.Input.Ignored)
	}
}

// TestVerifiedCacheKeyedOnStoredBytes: different bytes stored under a
// bundle's ID (a tampered row) never count. A gate that has not verified
// the ID verifies the stored bytes afresh and ignores them under their own
// digest. A gate whose cache holds the ID does not read them (a warm miss
// reads only the bundles its cache lacks) and decides on what it verified
// for the ID's own bytes, not on the tampered statement.
func TestVerifiedCacheKeyedOnStoredBytes(t *testing.T) {
	w := newCacheWorld(t)
	g := w.open(t)
	if res := w.evaluate(t, g); !res.Decision.Allow {
		t.Fatalf("with alice's approval: denied: %+v", res.Decision.Violations)
	}
	// Rewrite the approval's statement (another comment) in the stored
	// bundle, keeping alice's signature over the original.
	var b map[string]any
	if err := json.Unmarshal(w.approval.Raw, &b); err != nil {
		t.Fatal(err)
	}
	env := b["dsseEnvelope"].(map[string]any)
	payload, err := base64.StdEncoding.DecodeString(env["payload"].(string))
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(payload), `"comment":"ok"`, `"comment":"ko"`, 1)
	if changed == string(payload) {
		t.Fatalf("no comment to change in %s", payload)
	}
	env["payload"] = base64.StdEncoding.EncodeToString([]byte(changed))
	tampered, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", w.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if r, err := db.ExecContext(t.Context(), "UPDATE evidence SET bundle = ? WHERE id = ?", tampered, w.approval.ID); err != nil {
		t.Fatal(err)
	} else if n, _ := r.RowsAffected(); n != 1 {
		t.Fatalf("tampered %d rows, want 1", n)
	}
	res := w.evaluate(t, g)
	if !res.Decision.Allow || len(res.Input.Evidence.Approvals) != 1 || res.Input.Evidence.Approvals[0].Comment != "ok" || len(res.Input.Ignored) != 0 {
		t.Fatalf("with the approval's ID cached: allow=%v, approvals %+v, ignored %+v; want alice's approval as she signed it",
			res.Decision.Allow, res.Input.Evidence.Approvals, res.Input.Ignored)
	}
	g, _ = w.openCold(t)
	res = w.evaluate(t, g)
	if res.Decision.Allow {
		t.Fatal("a tampered bundle stored under an ID the gate had not verified allowed the deployment")
	}
	h := sha256.Sum256(tampered)
	sum := "sha256:" + hex.EncodeToString(h[:])
	if !ignoredBecause(res, sum, "does not verify") {
		t.Errorf("the tampered bundle is not listed as unverifiable under its own digest %s: %+v", sum, res.Input.Ignored)
	}
}

// TestVerifiedCacheChecksRoles: a cached result says who signed, not what
// they may sign: an approval by a key the trust file holds only as a
// scanner is ignored on every evaluation, the first (read from the cache
// Remember filled) and the next ones alike.
func TestVerifiedCacheChecksRoles(t *testing.T) {
	w := newCacheWorld(t)
	w.writeTrustRole(t, "scanner")
	g := w.open(t)
	for i := range 3 {
		res := w.evaluate(t, g)
		if res.Decision.Allow {
			t.Fatalf("evaluation %d: an approval signed by a scanner key allowed the deployment", i)
		}
		if !ignoredBecause(res, w.approval.ID, "does not trust as approver") {
			t.Errorf("evaluation %d: the scanner's approval is not ignored for its role: %+v", i, res.Input.Ignored)
		}
	}
}
