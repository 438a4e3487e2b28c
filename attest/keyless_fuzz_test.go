package attest_test

import (
	"testing"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"

	"github.com/hallmark-dev/hallmark/attest"
)

// FuzzVerifyKeyless: no input makes certificate-based verification panic,
// and what it accepts names the trusted identity. Seeds are the real
// public-good bundles and a cosign legacy bundle shape.
func FuzzVerifyKeyless(f *testing.F) {
	for _, file := range []string{"npm-sigstore-1.3.0.provenance.json", "npm-sigstore-2.0.0.provenance.json", "dsse.sigstore.json"} {
		f.Add(readFile(f, "testdata/publicgood/"+file))
	}
	f.Add([]byte(`{"base64Signature":"","cert":"","rekorBundle":{}}`))
	tr := publicGoodRoot(f)
	ks := attest.NewKeySet().AddIdentities(
		identity(f, "sigstore-js", githubIssuer, `^https://github\.com/sigstore/sigstore-js/`, certificate.Extensions{}),
		identity(f, "brian", "https://github.com/login/oauth", `^brian@dehamer\.com$`, certificate.Extensions{}))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := attest.Verify(t.Context(), b, ks, attest.WithTrustedRoot(tr))
		if err != nil {
			return
		}
		if v.Certificate == nil || len(v.Identities) == 0 || v.Statement == nil {
			t.Fatalf("accepted without a trusted identity: %+v", v.SignerIDs())
		}
	})
}
