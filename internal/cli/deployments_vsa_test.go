package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/internal/tooltest"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/store/sqlite"
	"github.com/hallmark-dev/hallmark/trust"
)

// TestDeploymentsVSA: `deployments vsa` issues the VSA of a decision
// recorded without one (as admission reviews record them), signed by the
// gate key; the real cosign verifies it against the artifact's bytes; a
// decision another key signed, an unknown ID and a record that is no
// decision get no VSA.
func TestDeploymentsVSA(t *testing.T) {
	ta := newTestApp(t)
	dir := t.TempDir()
	gk, scanner, trustFile := gateAndScannerKeys(t, dir)
	content := []byte("the release binary")
	artFile := filepath.Join(dir, "app.bin")
	if err := os.WriteFile(artFile, content, 0o644); err != nil {
		t.Fatal(err)
	}
	sub := attesttest.Subject("app.bin", content)
	st, err := sqlite.Open(t.Context(), filepath.Join(ta.env[StoreEnv], "evidence.db"))
	if err != nil {
		t.Fatal(err)
	}
	decided := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	d := gate.Decision{Artifact: policy.Artifact{Digest: attesttest.Digest(sub), Name: "app.bin"}, Environment: "prod", Allowed: true,
		Violations: []policy.Violation{}, Policy: gate.PolicyRef{URI: "builtin:prod", Digest: strings.Repeat("ab", 32)},
		Evidence: []string{"sha256:" + strings.Repeat("cd", 32)}, DecidedAt: decided, Source: gate.AdmissionSource,
		VerifiedLevels: []string{"SLSA_BUILD_LEVEL_2"}}
	rec, err := st.Put(t.Context(), attesttest.Verified(t, gk, gate.DecisionPredicateType, d, sub))
	if err != nil {
		t.Fatal(err)
	}
	forged, err := st.Put(t.Context(), attesttest.Verified(t, scanner, gate.DecisionPredicateType, d, sub))
	if err != nil {
		t.Fatal(err)
	}
	st.Close()

	out := filepath.Join(dir, "vsa.json")
	ta.mustRun(t, "deployments", "vsa", rec.ID, "--trust", trustFile, "--key", filepath.Join(dir, "gate.key"), "--out", out)
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := trust.Load(trustFile)
	if err != nil {
		t.Fatal(err)
	}
	v, err := attest.Verify(t.Context(), raw, tr.All())
	if err != nil {
		t.Fatalf("issued VSA does not verify: %v", err)
	}
	var vsa struct {
		Predicate struct {
			TimeVerified       time.Time `json:"timeVerified"`
			ResourceURI        string    `json:"resourceUri"`
			VerificationResult string    `json:"verificationResult"`
			VerifiedLevels     []string  `json:"verifiedLevels"`
			InputAttestations  []struct {
				URI string `json:"uri"`
			} `json:"inputAttestations"`
		} `json:"predicate"`
	}
	if err := json.Unmarshal(v.Payload, &vsa); err != nil {
		t.Fatal(err)
	}
	p := vsa.Predicate
	if v.PredicateType != gate.VSAPredicateType || p.VerificationResult != "PASSED" || !p.TimeVerified.Equal(decided) ||
		p.ResourceURI != "hallmark:artifact/"+d.Artifact.Digest.String() || strings.Join(p.VerifiedLevels, ",") != "SLSA_BUILD_LEVEL_2" ||
		len(p.InputAttestations) != 1 || p.InputAttestations[0].URI != "hallmark:evidence/"+d.Evidence[0] {
		t.Errorf("issued VSA %s says %+v; want what decision %s says", v.PredicateType, p, rec.ID)
	}

	for _, tc := range []struct {
		name, id string
		code     int
		msg      string
	}{
		{"a decision the scanner signed", forged.ID, ExitRejected, "gate"},
		{"an unknown ID", strings.Repeat("ef", 32), ExitBadInput, "not found"},
	} {
		code := ta.run("deployments", "vsa", tc.id, "--trust", trustFile, "--key", filepath.Join(dir, "gate.key"))
		if code != tc.code || !strings.Contains(ta.errOut.String(), tc.msg) {
			t.Errorf("%s: exit %d, want %d naming %q:\n%s", tc.name, code, tc.code, tc.msg, ta.errOut)
		}
	}

	t.Run("cosign", func(t *testing.T) {
		cosign := tooltest.Find(t, "cosign")
		emptyRoot := writeFile(t, filepath.Join(dir, "empty_root.json"), `{"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1"}`)
		verify := func(artifact string) ([]byte, error) {
			cmd := exec.Command(cosign, "verify-blob-attestation", "--new-bundle-format", "--trusted-root", emptyRoot, "--insecure-ignore-tlog",
				"--key", filepath.Join(dir, "gate.pub"), "--bundle", out, "--type", gate.VSAPredicateType, artifact)
			cmd.Env = append(os.Environ(), "SIGSTORE_NO_CACHE=1", "TUF_ROOT="+t.TempDir())
			return cmd.CombinedOutput()
		}
		if b, err := verify(artFile); err != nil {
			t.Fatalf("cosign rejects the issued VSA: %v\n%s", err, b)
		}
		other := writeFile(t, filepath.Join(dir, "other.bin"), "another binary")
		if b, err := verify(other); err == nil {
			t.Fatalf("cosign accepts the issued VSA for another artifact:\n%s", b)
		}
	})
}
