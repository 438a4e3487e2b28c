package attest_test

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"

	"github.com/hallmark-dev/hallmark/attest"
)

// The bundles under testdata/publicgood are real public-good Sigstore
// bundles (see its README).

func publicGoodRoot(t testing.TB) *root.TrustedRoot {
	t.Helper()
	tr, err := root.NewTrustedRootFromPath("testdata/publicgood/trusted_root.json")
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func readFile(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const (
	githubIssuer = "https://token.actions.githubusercontent.com"
	sigstoreJS   = "https://github.com/sigstore/sigstore-js"
	releaseYML   = "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main"
)

func identity(t testing.TB, name, issuer, subjectRegexp string, ext certificate.Extensions) attest.Identity {
	t.Helper()
	san, err := verify.NewSANMatcher("", subjectRegexp)
	if err != nil {
		t.Fatal(err)
	}
	iss, err := verify.NewIssuerMatcher(issuer, "")
	if err != nil {
		t.Fatal(err)
	}
	ci, err := verify.NewCertificateIdentity(san, iss, ext)
	if err != nil {
		t.Fatal(err)
	}
	return attest.Identity{Name: name, Match: ci}
}

func TestVerifyKeylessPublicGood(t *testing.T) {
	tr := publicGoodRoot(t)
	release := identity(t, "sigstore-js-release", githubIssuer, `^https://github\.com/sigstore/sigstore-js/`,
		certificate.Extensions{SourceRepositoryURI: sigstoreJS, SourceRepositoryRef: "refs/heads/main", RunnerEnvironment: "github-hosted"})
	other := identity(t, "other-repo", githubIssuer, `^https://github\.com/example/other/`, certificate.Extensions{})
	for _, tc := range []struct {
		file, predicateType, sha512 string
	}{
		{"npm-sigstore-1.3.0.provenance.json", "https://slsa.dev/provenance/v0.2", "76176ffa33808b54602c7c35de5c6e9a4deb96066dba6533f50ac234f4f1f4c6b3527515dc17c06fbe2860030f410eee69ea20079bd3a2c6f3dcf3b329b10751"},
		{"npm-sigstore-2.0.0.provenance.json", "https://slsa.dev/provenance/v1", "46d4e2f74c4877316640000a6fdf8a8b59f1e0847667973e9859f774dd31b8f1e0937813b777fb66a2ac67d50540fe34640966eee9fc2ccca387082b4c85cd3c"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			raw := readFile(t, "testdata/publicgood/"+tc.file)
			ks := attest.NewKeySet().AddIdentities(other, release)
			v, err := attest.Verify(t.Context(), raw, ks, attest.WithTrustedRoot(tr))
			if err != nil {
				t.Fatal(err)
			}
			if v.PredicateType != tc.predicateType || !v.HasDigest("sha512", tc.sha512) {
				t.Fatalf("predicate %s, subjects %v", v.PredicateType, v.Subjects())
			}
			if got := v.SignerIDs(); len(got) != 1 || got[0] != "identity:sigstore-js-release" {
				t.Fatalf("signers %v, want only the matching identity", got)
			}
			if v.Certificate == nil || v.Certificate.SourceRepositoryURI != sigstoreJS || v.Certificate.SubjectAlternativeName != releaseYML {
				t.Fatalf("certificate %+v", v.Certificate)
			}
			if v.LogEntries != 1 || v.Time.IsZero() || v.Time.Year() != 2023 {
				t.Fatalf("log entries %d, time %s: want the Rekor entry's integrated time", v.LogEntries, v.Time)
			}

			// The same bundle under a trust set naming another repository.
			_, err = attest.Verify(t.Context(), raw, attest.NewKeySet().AddIdentities(other), attest.WithTrustedRoot(tr))
			if !errors.Is(err, attest.ErrUnknownIdentity) || !strings.Contains(err.Error(), "subject "+releaseYML) || !strings.Contains(err.Error(), "other-repo: ") {
				t.Fatalf("err = %v, want ErrUnknownIdentity naming the signer and why other-repo did not match", err)
			}
			// Right subject, wrong ref extension.
			tag := identity(t, "tags-only", githubIssuer, `^https://github\.com/sigstore/sigstore-js/`, certificate.Extensions{SourceRepositoryRef: "refs/tags/v1"})
			_, err = attest.Verify(t.Context(), raw, attest.NewKeySet().AddIdentities(tag), attest.WithTrustedRoot(tr))
			if !errors.Is(err, attest.ErrUnknownIdentity) || !strings.Contains(err.Error(), "refs/tags/v1") {
				t.Fatalf("err = %v, want a ref mismatch", err)
			}
			// No trusted root: refused with the flag to give.
			_, err = attest.Verify(t.Context(), raw, ks)
			if !errors.Is(err, attest.ErrNoTrustedRoot) || !strings.Contains(err.Error(), "--trusted-root") {
				t.Fatalf("err = %v, want ErrNoTrustedRoot", err)
			}
		})
	}
}

// An altered payload must not verify although the certificate chain,
// SCT and log entry are intact.
func TestVerifyKeylessTampered(t *testing.T) {
	tr := publicGoodRoot(t)
	raw := string(readFile(t, "testdata/publicgood/npm-sigstore-2.0.0.provenance.json"))
	// Flip one base64 character inside the DSSE payload.
	i := strings.Index(raw, `"payload": "`) + len(`"payload": "`) + 40
	if i < 60 {
		t.Fatal("payload not found")
	}
	c := byte('A')
	if raw[i] == 'A' {
		c = 'B'
	}
	bad := raw[:i] + string(c) + raw[i+1:]
	ks := attest.NewKeySet().AddIdentities(identity(t, "any-sigstore-js", githubIssuer, `^https://github\.com/sigstore/sigstore-js/`, certificate.Extensions{}))
	if _, err := attest.Verify(t.Context(), []byte(bad), ks, attest.WithTrustedRoot(tr)); err == nil {
		t.Fatal("a bundle with an altered payload verified")
	}
	// Another trusted root (a private CA's) does not chain the certificate.
	other, err := root.NewTrustedRootFromPath("testdata/publicgood/scaffolding_trusted_root.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := attest.Verify(t.Context(), []byte(raw), ks, attest.WithTrustedRoot(other)); !errors.Is(err, attest.ErrTransparency) {
		t.Fatalf("err = %v: want a failure against a root that does not hold the public-good CA", err)
	}
}

func TestVerifyKeylessPersonIdentity(t *testing.T) {
	tr := publicGoodRoot(t)
	raw := readFile(t, "testdata/publicgood/dsse.sigstore.json")
	brian := identity(t, "brian", "https://github.com/login/oauth", `^brian@dehamer\.com$`, certificate.Extensions{})
	v, err := attest.Verify(t.Context(), raw, attest.NewKeySet().AddIdentities(brian), attest.WithTrustedRoot(tr))
	if err != nil {
		t.Fatal(err)
	}
	if v.Certificate.SubjectAlternativeName != "brian@dehamer.com" || v.SignerIDs()[0] != "identity:brian" {
		t.Fatalf("certificate %+v signers %v", v.Certificate, v.SignerIDs())
	}
	// An unanchored look-alike subject does not match an anchored pattern.
	evil := identity(t, "evil", "https://github.com/login/oauth", `^rian@dehamer\.com$`, certificate.Extensions{})
	if _, err := attest.Verify(t.Context(), raw, attest.NewKeySet().AddIdentities(evil), attest.WithTrustedRoot(tr)); !errors.Is(err, attest.ErrUnknownIdentity) {
		t.Fatalf("err = %v", err)
	}
}

func TestVerifyLegacyCosignFormats(t *testing.T) {
	// The shape of cosign 2.x's --bundle output (cosign sign-blob --bundle).
	legacy := []byte(`{"base64Signature":"MEUCIQ==","cert":"LS0t","rekorBundle":{"SignedEntryTimestamp":"MEU=","Payload":{"body":"e30=","integratedTime":1,"logIndex":1,"logID":"00"}}}`)
	_, err := attest.Verify(t.Context(), legacy, attest.NewKeySet())
	if !errors.Is(err, attest.ErrLegacyFormat) || !strings.Contains(err.Error(), "--new-bundle-format") {
		t.Fatalf("err = %v, want ErrLegacyFormat naming --new-bundle-format", err)
	}
	// A bare envelope (cosign attest --output-attestation) of a keyless
	// signature: the DSSE envelope of a real keyless bundle, alone.
	raw := readFile(t, "testdata/publicgood/dsse.sigstore.json")
	env := extractEnvelope(t, raw)
	brian := identity(t, "brian", "https://github.com/login/oauth", `^brian@dehamer\.com$`, certificate.Extensions{})
	_, err = attest.Verify(t.Context(), env, attest.NewKeySet().AddIdentities(brian), attest.WithTrustedRoot(publicGoodRoot(t)))
	if !errors.Is(err, attest.ErrSignature) || !strings.Contains(err.Error(), "--output-attestation") {
		t.Fatalf("err = %v, want a refusal naming --output-attestation", err)
	}
}

func extractEnvelope(t *testing.T, bundle []byte) []byte {
	t.Helper()
	var b struct {
		DSSEEnvelope json.RawMessage `json:"dsseEnvelope"`
	}
	if err := json.Unmarshal(bundle, &b); err != nil || len(b.DSSEEnvelope) == 0 {
		t.Fatalf("no dsseEnvelope: %v", err)
	}
	return b.DSSEEnvelope
}

// BenchmarkVerifyKeyless verifies the real npm provenance bundle of
// sigstore@2.0.0 offline: certificate chain, SCT, Rekor entry, signature.
func BenchmarkVerifyKeyless(b *testing.B) {
	tr := publicGoodRoot(b)
	raw := readFile(b, "testdata/publicgood/npm-sigstore-2.0.0.provenance.json")
	ks := attest.NewKeySet().AddIdentities(identity(b, "sigstore-js", githubIssuer, `^https://github\.com/sigstore/sigstore-js/`, certificate.Extensions{}))
	for b.Loop() {
		if _, err := attest.Verify(b.Context(), raw, ks, attest.WithTrustedRoot(tr)); err != nil {
			b.Fatal(err)
		}
	}
}
