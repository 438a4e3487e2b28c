package attest_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore-go/pkg/verify"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/keys"
)

const predType = "https://example.com/test-predicate/v1"

func TestSignVerifyRoundTrip(t *testing.T) {
	for _, alg := range keys.Algorithms() {
		t.Run(string(alg), func(t *testing.T) {
			k := attesttest.Key(t, alg)
			art := []byte("the artifact")
			sub := attesttest.Subject("app", art)
			b := attesttest.Bundle(t, k, predType, map[string]any{"builder": "x"}, sub)
			v, err := attest.Verify(t.Context(), b, attest.NewKeySet(k.Public()))
			if err != nil {
				t.Fatal(err)
			}
			if v.PredicateType != predType {
				t.Errorf("predicate type %q", v.PredicateType)
			}
			if err := v.CheckArtifact("app", sub.Digest["sha256"]); err != nil {
				t.Error(err)
			}
			if got := v.SignerIDs(); len(got) != 1 || got[0] != k.Public().ID() {
				t.Errorf("signers %v", got)
			}
			if !bytes.Contains(b, []byte(attest.BundleMediaType)) {
				t.Errorf("bundle lacks media type %s", attest.BundleMediaType)
			}
		})
	}
}

// TestSignVerifiedMatchesVerify: what SignVerified hands back without
// verifying is exactly what Verify makes of the same bundle.
func TestSignVerifiedMatchesVerify(t *testing.T) {
	for _, alg := range keys.Algorithms() {
		t.Run(string(alg), func(t *testing.T) {
			k := attesttest.Key(t, alg)
			st, err := attest.NewStatement([]attest.Subject{attesttest.Subject("app", []byte("a"))}, predType, []byte(`{"n":1,"s":"x"}`))
			if err != nil {
				t.Fatal(err)
			}
			got, err := attest.SignVerified(t.Context(), k, st)
			if err != nil {
				t.Fatal(err)
			}
			want, err := attest.Verify(t.Context(), got.Raw, attest.NewKeySet(k.Public()))
			if err != nil {
				t.Fatalf("SignVerified made a bundle Verify rejects: %v", err)
			}
			if got.ID != want.ID || got.PredicateType != want.PredicateType || !bytes.Equal(got.Payload, want.Payload) {
				t.Errorf("SignVerified = {%s %s %s}, Verify = {%s %s %s}", got.ID, got.PredicateType, got.Payload, want.ID, want.PredicateType, want.Payload)
			}
			if g, w := got.SignerIDs(), want.SignerIDs(); len(g) != 1 || len(w) != 1 || g[0] != w[0] {
				t.Errorf("signers %v, Verify says %v", g, w)
			}
			if g, w := got.Subjects(), want.Subjects(); len(g) != 1 || len(w) != 1 || g[0].Name != w[0].Name || g[0].Digest["sha256"] != w[0].Digest["sha256"] {
				t.Errorf("subjects %v, Verify says %v", g, w)
			}
			gp, _ := got.PredicateJSON()
			wp, _ := want.PredicateJSON()
			if !bytes.Equal(gp, wp) {
				t.Errorf("predicate %s, Verify says %s", gp, wp)
			}
		})
	}
}

// TestSignPredicateMatchesVerify: a statement SignPredicate serializes
// without a protobuf Struct verifies in Hallmark and in sigstore-go, and
// reads back as what was signed; what it hands back is what Verify makes of
// the bundle (the statement without its predicate Struct).
func TestSignPredicateMatchesVerify(t *testing.T) {
	type pred struct {
		N    int               `json:"n"`
		S    string            `json:"s"`
		HTML string            `json:"html"`
		M    map[string]string `json:"m"`
	}
	in := pred{N: 1, S: "x\u00e9\u2028", HTML: "<a & b>", M: map[string]string{"z": "1", "a": "2"}}
	for _, alg := range keys.Algorithms() {
		t.Run(string(alg), func(t *testing.T) {
			k := attesttest.Key(t, alg)
			art := []byte("a")
			subject := attesttest.Subject("app", art)
			got, err := attest.SignPredicate(t.Context(), k, []attest.Subject{subject}, predType, in)
			if err != nil {
				t.Fatal(err)
			}
			want, err := attest.Verify(t.Context(), got.Raw, attest.NewKeySet(k.Public()))
			if err != nil {
				t.Fatalf("SignPredicate made a bundle Verify rejects: %v\n%s", err, got.Payload)
			}
			if got.ID != want.ID || got.PredicateType != want.PredicateType || !bytes.Equal(got.Payload, want.Payload) {
				t.Errorf("SignPredicate = {%s %s %s}, Verify = {%s %s %s}", got.ID, got.PredicateType, got.Payload, want.ID, want.PredicateType, want.Payload)
			}
			if g, w := got.Subjects(), want.Subjects(); len(g) != 1 || len(w) != 1 || g[0].Name != w[0].Name || g[0].Digest["sha256"] != w[0].Digest["sha256"] {
				t.Errorf("subjects %v, Verify says %v", g, w)
			}
			if !got.HasDigest("sha256", subject.Digest["sha256"]) {
				t.Error("HasDigest is false for the subject")
			}
			if g, w := got.SignerIDs(), want.SignerIDs(); len(g) != 1 || len(w) != 1 || g[0] != w[0] {
				t.Errorf("signers %v, Verify says %v", g, w)
			}
			var back pred
			if err := want.DecodePredicate(&back); err != nil {
				t.Fatal(err)
			}
			if back.N != in.N || back.S != in.S || back.HTML != in.HTML || len(back.M) != 2 || back.M["z"] != "1" {
				t.Errorf("predicate read back as %+v, signed %+v", back, in)
			}
			var sb bundle.Bundle
			if err := sb.UnmarshalJSON(got.Raw); err != nil {
				t.Fatalf("sigstore-go cannot parse the bundle: %v", err)
			}
			sum := sha256.Sum256(art)
			res, err := sigstoreVerifier(t, k.Public()).Verify(&sb, verify.NewPolicy(verify.WithArtifactDigest("sha256", sum[:]), verify.WithKey()))
			if err != nil {
				t.Fatalf("sigstore-go rejects the bundle: %v", err)
			}
			if res.Statement.GetPredicateType() != predType || res.Statement.GetPredicate().GetFields()["html"].GetStringValue() != in.HTML {
				t.Errorf("sigstore-go read %v", res.Statement)
			}
		})
	}
}

// TestSignPredicateRefuses: what NewStatement refuses, SignPredicate
// refuses too.
func TestSignPredicateRefuses(t *testing.T) {
	k := attesttest.Key(t, keys.ECDSAP256)
	good := attesttest.Subject("app", []byte("a"))
	for name, tc := range map[string]struct {
		subjects []attest.Subject
		typ      string
		pred     any
		want     error
	}{
		"no subjects":        {nil, predType, map[string]int{}, attest.ErrStatement},
		"no predicate type":  {[]attest.Subject{good}, "", map[string]int{}, attest.ErrStatement},
		"bad digest":         {[]attest.Subject{{Name: "x", Digest: map[string]string{"sha256": "zz"}}}, predType, map[string]int{}, attest.ErrStatement},
		"no digest":          {[]attest.Subject{{Name: "x"}}, predType, map[string]int{}, attest.ErrStatement},
		"predicate an array": {[]attest.Subject{good}, predType, []int{1}, attest.ErrMalformed},
		"predicate null":     {[]attest.Subject{good}, predType, nil, attest.ErrMalformed},
		"unmarshalable":      {[]attest.Subject{good}, predType, map[string]any{"f": func() {}}, attest.ErrMalformed},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := attest.SignPredicate(t.Context(), k, tc.subjects, tc.typ, tc.pred); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// sigstoreVerifier builds sigstore-go's verifier for one public key, with no
// transparency log or timestamp authority: the configuration for key-signed,
// offline bundles.
func sigstoreVerifier(t *testing.T, pub *keys.PublicKey) *verify.Verifier {
	return sigstoreVerifierB(t, pub)
}

func sigstoreVerifierB(t testing.TB, pub *keys.PublicKey) *verify.Verifier {
	t.Helper()
	sv, err := pub.Verifier()
	if err != nil {
		t.Fatal(err)
	}
	tm := root.NewTrustedPublicKeyMaterial(func(hint string) (root.TimeConstrainedVerifier, error) {
		if hint != pub.ID() {
			return nil, errors.New("unknown key hint " + hint)
		}
		return root.NewExpiringKey(sv, time.Time{}, time.Time{}), nil
	})
	v, err := verify.NewVerifier(tm, verify.WithNoObserverTimestamps())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestSigstoreGoVerifiesHallmarkBundles: what Hallmark signs verifies with
// the reference verifier, using only the public key and no network.
func TestSigstoreGoVerifiesHallmarkBundles(t *testing.T) {
	for _, alg := range keys.Algorithms() {
		t.Run(string(alg), func(t *testing.T) {
			k := attesttest.Key(t, alg)
			art := []byte("artifact bytes")
			b := attesttest.Bundle(t, k, predType, map[string]any{"a": 1}, attesttest.Subject("art", art))
			var sb bundle.Bundle
			if err := sb.UnmarshalJSON(b); err != nil {
				t.Fatalf("sigstore-go cannot parse the bundle: %v", err)
			}
			sum := sha256.Sum256(art)
			res, err := sigstoreVerifier(t, k.Public()).Verify(&sb, verify.NewPolicy(verify.WithArtifactDigest("sha256", sum[:]), verify.WithKey()))
			if err != nil {
				t.Fatalf("sigstore-go rejects a hallmark bundle: %v", err)
			}
			if res.Statement.GetPredicateType() != predType {
				t.Errorf("sigstore-go read predicate type %q", res.Statement.GetPredicateType())
			}
			other := sha256.Sum256([]byte("other"))
			if _, err := sigstoreVerifier(t, k.Public()).Verify(&sb, verify.NewPolicy(verify.WithArtifactDigest("sha256", other[:]), verify.WithKey())); err == nil {
				t.Error("sigstore-go accepted the bundle for another artifact")
			}
		})
	}
}

// TestHallmarkVerifiesSigstoreGoBundles: a bundle made by sigstore-go's own
// signer with the same key verifies in Hallmark.
func TestHallmarkVerifiesSigstoreGoBundles(t *testing.T) {
	for _, alg := range keys.Algorithms() {
		t.Run(string(alg), func(t *testing.T) {
			k := attesttest.Key(t, alg)
			art := []byte("built elsewhere")
			sum := sha256.Sum256(art)
			payload := []byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"x","digest":{"sha256":"` + hex.EncodeToString(sum[:]) + `"}}],"predicateType":"` + predType + `","predicate":{"k":"v"}}`)
			pb, err := sign.Bundle(&sign.DSSEData{Data: payload, PayloadType: attest.PayloadType}, attest.Keypair(k), sign.BundleOptions{})
			if err != nil {
				t.Fatal(err)
			}
			b, err := (&bundle.Bundle{Bundle: pb}).MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			v, err := attest.Verify(t.Context(), b, attest.NewKeySet(k.Public()))
			if err != nil {
				t.Fatalf("hallmark rejects a sigstore-go bundle: %v", err)
			}
			if err := v.CheckArtifact("x", hex.EncodeToString(sum[:])); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestDSSESpecTestVector checks the test vector published in the DSSE
// protocol specification (protocol.md, "Test Vectors"): PAE bytes and the
// ECDSA P-256 signature over them.
func TestDSSESpecTestVector(t *testing.T) {
	pub := dsseSpecKey(t)
	env := []byte(`{"payload": "aGVsbG8gd29ybGQ=",
 "payloadType": "http://example.com/HelloWorld",
 "signatures": [{"sig": "A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA=="}]}`)
	v, err := attest.VerifyEnvelope(context.Background(), env, attest.NewKeySet(pub))
	if err != nil {
		t.Fatalf("spec test vector rejected: %v", err)
	}
	if string(v.Payload) != "hello world" || v.PayloadType != "http://example.com/HelloWorld" {
		t.Errorf("decoded %q %q", v.PayloadType, v.Payload)
	}
	// The same envelope is not evidence: its payload type is not in-toto.
	if _, err := attest.Verify(context.Background(), env, attest.NewKeySet(pub)); !errors.Is(err, attest.ErrPayloadType) {
		t.Errorf("Verify err = %v, want ErrPayloadType", err)
	}
	// One flipped payload bit breaks it.
	bad := bytes.Replace(env, []byte("aGVsbG8gd29ybGQ="), []byte("aGVsbG8gd29ybGU="), 1)
	if _, err := attest.VerifyEnvelope(context.Background(), bad, attest.NewKeySet(pub)); !errors.Is(err, attest.ErrSignature) {
		t.Errorf("tampered vector err = %v, want ErrSignature", err)
	}
}
