//go:build cgo

package tpm_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/google/go-eventlog/register"
	"github.com/google/go-eventlog/tcg"
	"github.com/google/go-tpm-tools/simulator"
	"github.com/google/go-tpm/legacy/tpm2"
	"github.com/google/go-tpm/tpmutil"

	"github.com/hallmark-dev/hallmark/tee"
	"github.com/hallmark-dev/hallmark/tee/teetest"
	"github.com/hallmark-dev/hallmark/tee/tpm"
)

// simulatedTPM starts the go-tpm-tools simulator (cgo, OpenSSL) and extends
// its SHA-256 PCRs with the events of the real GCE event log, so that the
// log replays against the simulator's quote as it would on the machine.
func simulatedTPM(t *testing.T) (*simulator.Simulator, []byte) {
	t.Helper()
	sim, err := simulator.Get()
	if err != nil {
		t.Fatalf("start TPM simulator: %v", err)
	}
	t.Cleanup(func() { sim.Close() })
	att, err := tpm.ParseAttestation(teetest.TPMAttestation())
	if err != nil {
		t.Fatal(err)
	}
	log := att.GetEventLog()
	el, err := tcg.ParseEventLog(log, tcg.ParseOpts{})
	if err != nil {
		t.Fatal(err)
	}
	const evNoAction = 3
	for _, ev := range el.Events(register.HashSHA256) {
		if ev.Type == evNoAction {
			continue
		}
		if err := tpm2.PCRExtend(sim, tpmutil.Handle(ev.Index), tpm2.AlgSHA256, ev.ReplayedDigest(), ""); err != nil {
			t.Fatalf("extend PCR %d: %v", ev.Index, err)
		}
	}
	return sim, log
}

func TestCollectWithSimulator(t *testing.T) {
	sim, log := simulatedTPM(t)
	c, err := tpm.NewCollector(sim, tpm.WithEventLog(log))
	if err != nil {
		t.Fatal(err)
	}
	ak, err := c.AKPublic()
	if err != nil {
		t.Fatal(err)
	}
	v, err := tpm.New(tpm.WithTrustedAKs(ak))
	if err != nil {
		t.Fatal(err)
	}
	b := tee.NewBinding("application/vnd.in-toto+json", []byte(`{"predicateType":"https://slsa.dev/provenance/v1"}`), [tee.NonceSize]byte{1, 2, 3})
	rd := b.ReportData()
	evidence, err := c.Collect(t.Context(), rd)
	if err != nil {
		t.Fatal(err)
	}
	quoted := b.Quoted(tee.TPM)
	claims, err := v.Verify(t.Context(), evidence, tee.VerifyOptions{Time: teetest.Today, Nonce: quoted})
	if err != nil {
		t.Fatalf("verify simulator evidence: %v", err)
	}
	if err := tee.CheckBinding(claims, b); err != nil {
		t.Errorf("binding: %v", err)
	}
	if claims.Measurements["pcr0"] == "" {
		t.Error("no PCR0 in claims")
	}
	other := tee.Binding{PAEDigest: sha256.Sum256([]byte("other provenance")), Nonce: b.Nonce}
	if err := tee.CheckBinding(claims, other); !errors.Is(err, tee.ErrBinding) {
		t.Errorf("binding to other provenance: %v", err)
	}
	// A different nonce than the one collected with is rejected.
	wrong := bytes.Clone(quoted)
	wrong[31] ^= 1
	if _, err := v.Verify(t.Context(), evidence, tee.VerifyOptions{Time: teetest.Today, Nonce: wrong}); !errors.Is(err, tee.ErrNonce) {
		t.Errorf("wrong nonce: %v", err)
	}
	// The default verifier (GCE roots) does not trust the simulator's AK.
	gce := mustNew(t)
	if _, err := gce.Verify(t.Context(), evidence, tee.VerifyOptions{Time: teetest.Today, Nonce: quoted}); !errors.Is(err, tee.ErrChain) {
		t.Errorf("uncertified AK under GCE roots: %v", err)
	}
}

func TestAttestWithSimulator(t *testing.T) {
	sim, log := simulatedTPM(t)
	c, err := tpm.NewCollector(sim, tpm.WithEventLog(log))
	if err != nil {
		t.Fatal(err)
	}
	ak, err := c.AKPublic()
	if err != nil {
		t.Fatal(err)
	}
	v, err := tpm.New(tpm.WithTrustedAKs(ak))
	if err != nil {
		t.Fatal(err)
	}
	pae := []byte("DSSEv1 28 application/vnd.in-toto+json 2 {}")
	pred, err := tee.Attest(t.Context(), c, v, pae, tee.VerifyOptions{Time: teetest.Today})
	if err != nil {
		t.Fatalf("Attest: %v", err)
	}
	reg, err := tee.NewRegistry(v)
	if err != nil {
		t.Fatal(err)
	}
	claims, err := tee.VerifyPredicate(t.Context(), reg, pred, pae, tee.VerifyOptions{Time: teetest.Today})
	if err != nil {
		t.Fatalf("VerifyPredicate: %v", err)
	}
	if claims.Platform != tee.TPM || len(claims.ReportData) != sha256.Size {
		t.Errorf("claims %+v", claims)
	}
}
