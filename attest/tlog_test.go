package attest_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/tlog"
	"github.com/hallmark-dev/hallmark/tlog/tlogtest"
)

// signLogged signs a statement about content, logged and timestamped.
func signLogged(t *testing.T, k *keys.PrivateKey, s *tlogtest.Services, content string) []byte {
	t.Helper()
	st, err := attest.NewStatement([]attest.Subject{attesttest.Subject("app", []byte(content))}, predType, []byte(`{"n":"`+content+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := attest.Sign(t.Context(), k, st, attest.WithTransparencyLog(s.Log.URL), attest.WithTimestampAuthority(s.TSA.URL))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parseBundle(t *testing.T, raw []byte) *protobundle.Bundle {
	t.Helper()
	var pb protobundle.Bundle
	if err := protojson.Unmarshal(raw, &pb); err != nil {
		t.Fatal(err)
	}
	return &pb
}

func encodeBundle(t *testing.T, pb *protobundle.Bundle) []byte {
	t.Helper()
	raw, err := protojson.Marshal(pb)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestTransparencyLog signs against a real rekor-tiles log and a real
// timestamp-server, verifies offline against the trusted root, and checks
// that every kind of tampering with the log entry or timestamp is rejected.
func TestTransparencyLog(t *testing.T) {
	s := tlogtest.Start(t)
	tr, err := tlog.ParseRoot(s.Root)
	if err != nil {
		t.Fatal(err)
	}
	k := attesttest.Key(t, keys.ECDSAP256)
	ks := attest.NewKeySet(k.Public())
	before := time.Now().Add(-time.Second)
	var logged [][]byte
	for _, c := range []string{"a", "b", "c"} {
		logged = append(logged, signLogged(t, k, s, c))
	}
	after := time.Now().Add(time.Second)
	good := logged[2] // index 2: its inclusion proof has hashes

	v, err := attest.Verify(t.Context(), good, ks, attest.WithTrustedRoot(tr))
	if err != nil {
		t.Fatal(err)
	}
	if v.LogEntries != 1 || len(v.Timestamps) != 1 {
		t.Fatalf("log entries %d, timestamps %d; want 1 and 1", v.LogEntries, len(v.Timestamps))
	}
	if v.Time.Before(before) || v.Time.After(after) {
		t.Errorf("verified time %s not within [%s, %s]", v.Time, before, after)
	}
	pb := parseBundle(t, good)
	if got := pb.GetVerificationMaterial().GetTlogEntries()[0].GetKindVersion().GetKind(); got != "hashedrekord" {
		t.Errorf("entry kind %q", got)
	}
	if len(pb.GetVerificationMaterial().GetTlogEntries()[0].GetInclusionProof().GetHashes()) == 0 {
		t.Fatal("the third entry's proof has no hashes: the tampering cases below would not test the proof")
	}

	t.Run("sigstore-go verifies the same bundle", func(t *testing.T) {
		b, err := bundle.LoadJSONFromPath(writeTemp(t, good))
		if err != nil {
			t.Fatal(err)
		}
		pk, err := k.Public().Verifier()
		if err != nil {
			t.Fatal(err)
		}
		km := root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) {
			return root.NewExpiringKey(pk, time.Time{}, time.Time{}), nil
		})
		sv, err := verify.NewVerifier(root.TrustedMaterialCollection{tr, km}, verify.WithTransparencyLog(1), verify.WithSignedTimestamps(1))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sv.Verify(b, verify.NewPolicy(verify.WithoutArtifactUnsafe(), verify.WithKey())); err != nil {
			t.Fatal(err)
		}
	})

	unlogged := attesttest.Bundle(t, k, predType, map[string]any{}, attesttest.Subject("app", []byte("x")))
	otherKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	otherLogRoot := mustRoot(t, []tlog.Log{{BaseURL: s.Log.URL, PublicKey: otherKey.Public(), ValidFrom: s.Log.Started.Add(-time.Hour)}}, []tlog.TSA{{URL: s.TSA.URL, Chain: s.TSA.Chain}})
	expiredTSARoot := mustRoot(t, []tlog.Log{{BaseURL: s.Log.URL, PublicKey: s.Log.PublicKey, ValidFrom: s.Log.Started.Add(-time.Hour)}},
		[]tlog.TSA{{URL: s.TSA.URL, Chain: s.TSA.Chain, ValidFrom: before.Add(-2 * time.Hour), ValidUntil: before.Add(-time.Hour)}})
	notYetLogRoot := mustRoot(t, []tlog.Log{{BaseURL: s.Log.URL, PublicKey: s.Log.PublicKey, ValidFrom: after.Add(time.Hour)}}, []tlog.TSA{{URL: s.TSA.URL, Chain: s.TSA.Chain}})

	tamper := func(f func(pb *protobundle.Bundle)) []byte {
		pb := parseBundle(t, good)
		f(pb)
		return encodeBundle(t, pb)
	}
	cases := []struct {
		name string
		raw  []byte
		root root.TrustedMaterial
	}{
		{"not logged", unlogged, tr},
		{"inclusion proof hash altered", tamper(func(pb *protobundle.Bundle) {
			pb.VerificationMaterial.TlogEntries[0].InclusionProof.Hashes[0][0] ^= 1
		}), tr},
		{"inclusion proof index altered", tamper(func(pb *protobundle.Bundle) {
			pb.VerificationMaterial.TlogEntries[0].InclusionProof.LogIndex = 1
			pb.VerificationMaterial.TlogEntries[0].LogIndex = 1
		}), tr},
		{"checkpoint signature altered", tamper(func(pb *protobundle.Bundle) {
			cp := pb.VerificationMaterial.TlogEntries[0].InclusionProof.Checkpoint
			i := strings.LastIndex(cp.Envelope, " ") + 5
			c := []byte(cp.Envelope)
			c[i] ^= 1
			cp.Envelope = string(c)
		}), tr},
		{"checkpoint from a key the root does not trust", good, otherLogRoot},
		{"log key not yet valid", good, notYetLogRoot},
		{"entry for a different body", tamper(func(pb *protobundle.Bundle) {
			pb.VerificationMaterial.TlogEntries = parseBundle(t, logged[1]).VerificationMaterial.TlogEntries
		}), tr},
		{"timestamp over a different signature", tamper(func(pb *protobundle.Bundle) {
			pb.VerificationMaterial.TimestampVerificationData = parseBundle(t, logged[1]).VerificationMaterial.TimestampVerificationData
		}), tr},
		{"timestamp outside the TSA's validity", good, expiredTSARoot},
		{"timestamp removed", tamper(func(pb *protobundle.Bundle) {
			pb.VerificationMaterial.TimestampVerificationData = nil
		}), tr},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := attest.Verify(t.Context(), c.raw, ks, attest.WithTrustedRoot(c.root))
			if !errors.Is(err, attest.ErrTransparency) {
				t.Fatalf("got %v, want ErrTransparency", err)
			}
		})
	}

	t.Run("thresholds", func(t *testing.T) {
		if _, err := attest.Verify(t.Context(), unlogged, ks, attest.WithTrustedRoot(tr), attest.WithLogThreshold(0), attest.WithTimestampThreshold(0)); err != nil {
			t.Fatalf("zero thresholds: %v", err)
		}
		// A log entry the bundle carries must hold even when no threshold
		// asks for one: with threshold 0 a tampered entry was not checked
		// at all, and export and the dashboard then passed it.
		altered := tamper(func(pb *protobundle.Bundle) {
			pb.VerificationMaterial.TlogEntries[0].InclusionProof.Hashes[0][0] ^= 1
		})
		if _, err := attest.Verify(t.Context(), altered, ks, attest.WithTrustedRoot(tr), attest.WithLogThreshold(0)); !errors.Is(err, attest.ErrTransparency) {
			t.Fatalf("tampered entry with log threshold 0: got %v, want ErrTransparency", err)
		}
		v, err := attest.Verify(t.Context(), good, ks, attest.WithTrustedRoot(tr), attest.WithLogThreshold(0))
		if err != nil {
			t.Fatalf("logged bundle with log threshold 0: %v", err)
		}
		if v.LogEntries != 1 {
			t.Fatalf("logged bundle with log threshold 0: %d entries counted, want 1", v.LogEntries)
		}
		if _, err := attest.Verify(t.Context(), good, ks, attest.WithTrustedRoot(tr), attest.WithLogThreshold(2)); !errors.Is(err, attest.ErrTransparency) {
			t.Fatalf("two logs required, one present: %v", err)
		}
		if _, err := attest.Verify(t.Context(), good, ks, attest.WithLogThreshold(1)); err == nil || !strings.Contains(err.Error(), "WithTrustedRoot") {
			t.Fatalf("threshold without a root: %v", err)
		}
	})
}

func mustRoot(t *testing.T, logs []tlog.Log, tsas []tlog.TSA) *root.TrustedRoot {
	t.Helper()
	raw, err := tlog.NewRoot(logs, tsas)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := tlog.ParseRoot(raw)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func writeTemp(t *testing.T, b []byte) string {
	t.Helper()
	p := t.TempDir() + "/bundle.json"
	if err := osWriteFile(p, b); err != nil {
		t.Fatal(err)
	}
	return p
}

func osWriteFile(p string, b []byte) error { return os.WriteFile(p, b, 0o644) }
