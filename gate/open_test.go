package gate_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/store/sqlite"
	"github.com/hallmark-dev/hallmark/tee/verifiers"
)

// setupDir writes a trust file giving key the roles, naming the real
// reference values of tee/testdata when withRefs, and returns its path.
func setupDir(t *testing.T, key *keys.PrivateKey, roles string, withRefs bool) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "gate.pub"), key.Public().MarshalPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	doc := "version: 1\nkeys:\n  - {name: gate, publicKey: gate.pub, roles: [" + roles + "]}\n"
	if withRefs {
		refs, err := os.ReadFile("../tee/testdata/reference-values.json")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "refs.json"), refs, 0o600); err != nil {
			t.Fatal(err)
		}
		doc += "tee:\n  referenceValues: refs.json\n"
	}
	p := filepath.Join(dir, "trust.yaml")
	if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestOpenRefusesKeyWithoutGateRole: whoever assembles the gate (gate,
// recheck, serve), a key the trust file does not give the gate role is
// refused, naming the key and the trust file.
func TestOpenRefusesKeyWithoutGateRole(t *testing.T) {
	k := attesttest.Key(t, keys.Ed25519)
	trustFile := setupDir(t, k, "approver", false)
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "e.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, err = gate.Open(t.Context(), st, gate.Setup{TrustFile: trustFile, Policies: map[string]string{"prod": "builtin"}, Key: k, KeyName: "test key"})
	se, ok := errors.AsType[*gate.SetupError](err)
	if !ok || se.Input != "key" || !errors.Is(err, gate.ErrKeyRole) {
		t.Fatalf("Open with a key without the gate role: %v, want a key SetupError wrapping ErrKeyRole", err)
	}
	for _, want := range []string{"test key", k.Public().ID(), trustFile} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}

// TestOpenSetsTEEReferenceValues: the trust file's TEE reference values
// reach the presets of every environment, with no hook: the built-in prod
// preset asks for SEV-SNP or TDX evidence, so with reference values its tee
// group is enforced (an artifact without TEE evidence is denied for it),
// and without them it is not.
func TestOpenSetsTEEReferenceValues(t *testing.T) {
	reg, err := verifiers.Offline()
	if err != nil {
		t.Fatal(err)
	}
	dg := digest.MustParse("sha256:" + strings.Repeat("ab", 32))
	for _, withRefs := range []bool{true, false} {
		k := attesttest.Key(t, keys.Ed25519)
		st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "e.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		g, err := gate.Open(t.Context(), st, gate.Setup{TrustFile: setupDir(t, k, "gate", withRefs), Policies: map[string]string{"prod": "builtin"}, Key: k, KeyName: "test key", TEE: reg})
		if err != nil {
			t.Fatal(err)
		}
		if _, refs := g.TEE(); (refs != nil) != withRefs {
			t.Errorf("reference values %v: gate has %v", withRefs, refs)
		}
		res, err := g.Evaluate(t.Context(), gate.Request{Artifact: policy.Artifact{Digest: dg}, Environment: "prod", Source: "test"})
		if err != nil {
			t.Fatal(err)
		}
		teeDenied := slices.ContainsFunc(res.Decision.Violations, func(v policy.Violation) bool { return strings.HasPrefix(v.RuleID, "tee.") })
		if teeDenied != withRefs {
			t.Errorf("reference values %v: tee group enforced %v, violations %+v", withRefs, teeDenied, res.Decision.Violations)
		}
	}
}

// TestOpenBadPolicySpec: an unknown built-in preset is a policy
// SetupError carrying the policy.SpecError.
func TestOpenBadPolicySpec(t *testing.T) {
	k := attesttest.Key(t, keys.Ed25519)
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "e.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, err = gate.Open(t.Context(), st, gate.Setup{TrustFile: setupDir(t, k, "gate", false), Policies: map[string]string{"prod": "builtin:nosuch"}, Key: k})
	spec, ok := errors.AsType[*policy.SpecError](err)
	if !ok || spec.Environment != "prod" || spec.Spec != "builtin:nosuch" || !errors.Is(err, policy.ErrSpec) {
		t.Fatalf("Open with builtin:nosuch: %v, want a policy.SpecError", err)
	}
}
