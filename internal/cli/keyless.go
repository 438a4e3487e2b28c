package cli

import (
	"context"
	"fmt"
	"net/http"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/sigstore/sigstore-go/pkg/verify"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/internal/textsafe"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/store"
)

// Environment variables keyless signing reads its identity token from.
const (
	// IDTokenEnv holds an OIDC ID token (audience "sigstore"), as cosign reads it.
	IDTokenEnv = "SIGSTORE_ID_TOKEN"
	// GitHubTokenURLEnv and GitHubTokenEnv are set by GitHub Actions in jobs
	// with "permissions: id-token: write".
	GitHubTokenURLEnv = "ACTIONS_ID_TOKEN_REQUEST_URL"
	GitHubTokenEnv    = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
)

// idToken returns the OIDC identity token keyless signing presents to
// Fulcio: $SIGSTORE_ID_TOKEN, else one requested from GitHub Actions.
func (a *App) idToken(ctx context.Context) (string, error) {
	if tok := a.Getenv(IDTokenEnv); tok != "" {
		return tok, nil
	}
	if u, tok := a.Getenv(GitHubTokenURLEnv), a.Getenv(GitHubTokenEnv); u != "" && tok != "" {
		t, err := attest.GitHubActionsIDToken(ctx, &http.Client{Timeout: 30 * time.Second}, u, tok)
		if err != nil {
			return "", environmentErr(err)
		}
		return t, nil
	}
	return "", usageError(fmt.Errorf("--keyless needs an OIDC identity token: set $%s, or run in GitHub Actions with \"permissions: id-token: write\" ($%s and $%s)", IDTokenEnv, GitHubTokenURLEnv, GitHubTokenEnv))
}

// signKeylessAndStore signs st with an OIDC identity through Fulcio
// (logging and timestamping it as --tlog and --tsa say), verifies the
// bundle against the trusted root for the identity the certificate names,
// and records it. It returns the record, the bundle and that identity.
func (a *App) signKeylessAndStore(ctx context.Context, st *intoto.Statement) (store.Record, []byte, *attest.Certificate, error) {
	_, bundle, rec, cert, err := a.signKeylessStoreVerified(ctx, st)
	return rec, bundle, cert, err
}

// signKeylessStoreVerified is signKeylessAndStore that also returns the
// verified bundle.
func (a *App) signKeylessStoreVerified(ctx context.Context, st *intoto.Statement) (*attest.Verified, []byte, store.Record, *attest.Certificate, error) {
	fail := func(err error) (*attest.Verified, []byte, store.Record, *attest.Certificate, error) {
		return nil, nil, store.Record{}, nil, err
	}
	fulcio := a.setting(a.tlog.fulcio, FulcioEnv)
	if fulcio == "" {
		return fail(usageError(fmt.Errorf("--keyless needs --fulcio URL (or $%s)", FulcioEnv)))
	}
	vopts, err := a.verifyOptions()
	if err != nil {
		return fail(err)
	}
	if len(vopts) == 0 {
		return fail(usageError(fmt.Errorf("--keyless needs --trusted-root (or $%s) trusting the Fulcio CA, to check the new bundle before storing it", TrustedRootEnv)))
	}
	sopts, err := a.signOptions()
	if err != nil {
		return fail(err)
	}
	tok, err := a.idToken(ctx)
	if err != nil {
		return fail(err)
	}
	bundle, cert, err := attest.SignKeyless(ctx, st, fulcio, tok, sopts...)
	if err != nil {
		return fail(environmentErr(err))
	}
	// The self-check trusts exactly the identity Fulcio certified.
	self, err := verify.NewShortCertificateIdentity(cert.Issuer, "", cert.SubjectAlternativeName, "")
	if err != nil {
		return fail(environmentErr(err))
	}
	v, err := attest.Verify(ctx, bundle, attest.NewKeySet().AddIdentities(attest.Identity{Name: cert.SubjectAlternativeName, Match: self}), vopts...)
	if err != nil {
		return fail(environmentErr(fmt.Errorf("self-check of the new bundle failed: %w", err)))
	}
	a.describeTransparency(v)
	s, err := a.openStore(ctx)
	if err != nil {
		return fail(err)
	}
	defer s.Close()
	rec, err := s.Put(ctx, v)
	if err != nil {
		return fail(storeError(err))
	}
	return v, bundle, rec, cert, nil
}

// keylessUsage is the --keyless flag's help on every signing command.
const keylessUsage = "sign with an OIDC identity through Fulcio instead of a key ($SIGSTORE_ID_TOKEN or GitHub Actions' token; --fulcio, --trusted-root)"

// evidenceSigner is what a signing command signs with: a key, or (nil key)
// an OIDC identity certified by Fulcio (--keyless).
type evidenceSigner struct {
	key *keys.PrivateKey
}

// evidenceSigner loads --key, or prepares --keyless signing; it returns
// nil when neither is given (the command does not sign).
func (a *App) evidenceSigner(keyPath string, keyless bool) (*evidenceSigner, error) {
	switch {
	case keyless && keyPath != "":
		return nil, usageError(fmt.Errorf("--keyless and --key exclude each other"))
	case keyless:
		return &evidenceSigner{}, nil
	case keyPath == "":
		return nil, nil
	}
	k, err := a.loadSigningKey(keyPath)
	if err != nil {
		return nil, err
	}
	return &evidenceSigner{key: k}, nil
}

// signWith signs st with s, verifies the bundle and stores it, as
// signStoreVerified and signKeylessStoreVerified do; signer describes who
// signed, for the command's message ("key ID" or the certificate's
// identity).
func (a *App) signWith(ctx context.Context, s *evidenceSigner, st *intoto.Statement) (v *attest.Verified, bundle []byte, rec store.Record, signer string, err error) {
	if s.key != nil {
		v, bundle, rec, err = a.signStoreVerified(ctx, s.key, st)
		return v, bundle, rec, "key " + s.key.Public().ID(), err
	}
	v, bundle, rec, cert, err := a.signKeylessStoreVerified(ctx, st)
	if err != nil {
		return nil, nil, store.Record{}, "", err
	}
	return v, bundle, rec, textsafe.Escape(attest.DescribeCertificate(cert)), nil
}
