package attest_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/tlog"
	"github.com/hallmark-dev/hallmark/tlog/tlogtest"
)

// TestSignKeylessWithFulcio signs with an OIDC token through the real
// Fulcio server (ephemeral CA), logs in rekor-tiles and timestamps with
// timestamp-server, then verifies offline against a root trusting the three.
func TestSignKeylessWithFulcio(t *testing.T) {
	svc, f := tlogtest.StartKeyless(t)
	tr, err := tlog.ParseRoot(svc.Root)
	if err != nil {
		t.Fatal(err)
	}
	st, err := attest.NewStatement([]attest.Subject{attesttest.Subject("app", []byte("the artifact"))}, predType, []byte(`{"ok":true}`))
	if err != nil {
		t.Fatal(err)
	}
	raw, cert, err := attest.SignKeyless(t.Context(), st, f.URL, f.Issuer.Token(t, "alice@example.com"),
		attest.WithTransparencyLog(svc.Log.URL), attest.WithTimestampAuthority(svc.TSA.URL))
	if err != nil {
		t.Fatal(err)
	}
	if cert.SubjectAlternativeName != "alice@example.com" || cert.Issuer != f.Issuer.URL {
		t.Fatalf("certificate names %s", attest.DescribeCertificate(cert))
	}
	alice := identity(t, "alice", f.Issuer.URL, `^alice@example\.com$`, certificate.Extensions{})
	v, err := attest.Verify(t.Context(), raw, attest.NewKeySet().AddIdentities(alice), attest.WithTrustedRoot(tr))
	if err != nil {
		t.Fatal(err)
	}
	if v.SignerIDs()[0] != "identity:alice" || v.LogEntries != 1 || len(v.Timestamps) == 0 {
		t.Fatalf("signers %v, log entries %d, timestamps %v", v.SignerIDs(), v.LogEntries, v.Timestamps)
	}
	bob := identity(t, "bob", f.Issuer.URL, `^bob@example\.com$`, certificate.Extensions{})
	if _, err := attest.Verify(t.Context(), raw, attest.NewKeySet().AddIdentities(bob), attest.WithTrustedRoot(tr)); !errors.Is(err, attest.ErrUnknownIdentity) ||
		!strings.Contains(err.Error(), "subject alice@example.com") {
		t.Fatalf("err = %v, want alice's certificate refused for bob", err)
	}
	// The public-good root does not trust this Fulcio.
	if _, err := attest.Verify(t.Context(), raw, attest.NewKeySet().AddIdentities(alice), attest.WithTrustedRoot(publicGoodRoot(t))); err == nil {
		t.Fatal("verified against a root without this Fulcio's CA")
	}
	// Without a log or timestamp the bundle could not be verified later.
	if _, _, err := attest.SignKeyless(t.Context(), st, f.URL, f.Issuer.Token(t, "alice@example.com")); err == nil || !strings.Contains(err.Error(), "timestamp authority") {
		t.Fatalf("err = %v", err)
	}
	// Fulcio refuses a token it cannot verify.
	if _, _, err := attest.SignKeyless(t.Context(), st, f.URL, tlogtest.StartIssuer(t).Token(t, "alice@example.com"), attest.WithTimestampAuthority(svc.TSA.URL)); err == nil {
		t.Fatal("Fulcio issued a certificate for a token from an issuer it does not trust")
	}
}
