package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/tee"
	"github.com/hallmark-dev/hallmark/tee/sevsnp/sevsnptest"
	"github.com/hallmark-dev/hallmark/tee/teetest"
	"github.com/hallmark-dev/hallmark/tee/verifiers"
)

// TestBuildBindsTEEQuote: `build --tee sev-snp` on a (fake) SEV-SNP guest
// stores a TEE attestation whose quote binds the provenance just signed;
// without a TEE, auto records nothing and an explicit platform fails.
func TestBuildBindsTEEQuote(t *testing.T) {
	dev := sevsnptest.NewDevice(t, teetest.Today)
	v := dev.Verifier(t)
	ta := newTestApp(t)
	ta.env["PATH"] = "/usr/bin:/bin"
	ta.App.Now = func() time.Time { return teetest.Today.AddDate(0, 0, 1) }
	ta.OpenTEE = func(_ context.Context, p tee.Platform) (tee.Collector, tee.Verifier, error) {
		if p != tee.SEVSNP {
			return nil, nil, fmt.Errorf("%w: %s", verifiers.ErrNoTEE, p)
		}
		return dev, v, nil
	}
	keyDir := t.TempDir()
	ta.mustRun(t, "keygen", filepath.Join(keyDir, "b"))
	key := filepath.Join(keyDir, "b.key")
	t.Chdir(t.TempDir())
	out := t.TempDir()
	ta.mustRun(t, "build", "--key", key, "--out", out, "--output-dir", "dist", "--sandbox", "off", "--tee", "sev-snp", "--", "sh", "-c", "echo app > dist/app")

	pub, err := keys.LoadPublicKeyFile(filepath.Join(keyDir, "b.pub"))
	if err != nil {
		t.Fatal(err)
	}
	read := func(name string) *attest.Verified {
		raw, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		vv, err := attest.Verify(t.Context(), raw, attest.NewKeySet(pub))
		if err != nil {
			t.Fatal(err)
		}
		return vv
	}
	prov, teeAtt := read("provenance.bundle.json"), read("tee.bundle.json")
	if teeAtt.PredicateType != tee.PredicateType || teeAtt.Subjects()[0].Digest["sha256"] != prov.Subjects()[0].Digest["sha256"] {
		t.Fatalf("TEE attestation %s about %+v", teeAtt.PredicateType, teeAtt.Subjects())
	}
	raw, _ := teeAtt.PredicateJSON()
	pred, err := tee.ParsePredicate(raw)
	if err != nil {
		t.Fatal(err)
	}
	reg, _ := tee.NewRegistry(v)
	opts := tee.VerifyOptions{Time: teetest.Today.AddDate(0, 0, 1), AllowDebugUnsafe: true}
	if _, err := tee.VerifyPredicate(t.Context(), reg, pred, prov.PAE(), opts); err != nil {
		t.Fatalf("the quote does not bind the provenance: %v", err)
	}
	if _, err := tee.VerifyPredicate(t.Context(), reg, pred, append(prov.PAE(), ' '), opts); !errors.Is(err, tee.ErrBinding) {
		t.Errorf("the quote binds another provenance too: %v", err)
	}
	var recs []json.RawMessage
	ta.mustRun(t, "evidence", "ls", "--type", tee.PredicateType, "--format", "json")
	if json.Unmarshal(ta.out.Bytes(), &recs); len(recs) != 1 {
		t.Errorf("%d TEE attestations stored", len(recs))
	}

	ta.OpenTEE = func(context.Context, tee.Platform) (tee.Collector, tee.Verifier, error) {
		return nil, nil, verifiers.ErrNoTEE
	}
	out2 := t.TempDir()
	ta.mustRun(t, "build", "--key", key, "--out", out2, "--output-dir", "dist", "--sandbox", "off", "--tee", "auto", "--", "sh", "-c", "echo app2 > dist/app")
	if !strings.Contains(ta.errOut.String(), "no TEE found") {
		t.Errorf("--tee auto without a TEE: %s", ta.errOut)
	}
	if code := ta.run("build", "--key", key, "--out", t.TempDir(), "--output-dir", "dist", "--sandbox", "off", "--tee", "sev-snp", "--", "sh", "-c", "echo app3 > dist/app"); code != ExitEnvironment {
		t.Errorf("--tee sev-snp without a TEE: exit %d, want %d", code, ExitEnvironment)
	}
	if code := ta.run("build", "--out", t.TempDir(), "--tee", "auto", "--", "true"); code != ExitUsage {
		t.Errorf("--tee without --key: exit %d, want %d", code, ExitUsage)
	}
}
