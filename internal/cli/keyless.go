package cli

import (
	"context"
	"fmt"
	"net/http"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/sigstore/sigstore-go/pkg/verify"

	"github.com/hallmark-dev/hallmark/attest"
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
	fulcio := a.setting(a.tlog.fulcio, FulcioEnv)
	if fulcio == "" {
		return store.Record{}, nil, nil, usageError(fmt.Errorf("--keyless needs --fulcio URL (or $%s)", FulcioEnv))
	}
	vopts, err := a.verifyOptions()
	if err != nil {
		return store.Record{}, nil, nil, err
	}
	if len(vopts) == 0 {
		return store.Record{}, nil, nil, usageError(fmt.Errorf("--keyless needs --trusted-root (or $%s) trusting the Fulcio CA, to check the new bundle before storing it", TrustedRootEnv))
	}
	sopts, err := a.signOptions()
	if err != nil {
		return store.Record{}, nil, nil, err
	}
	tok, err := a.idToken(ctx)
	if err != nil {
		return store.Record{}, nil, nil, err
	}
	bundle, cert, err := attest.SignKeyless(ctx, st, fulcio, tok, sopts...)
	if err != nil {
		return store.Record{}, nil, nil, environmentErr(err)
	}
	// The self-check trusts exactly the identity Fulcio certified.
	self, err := verify.NewShortCertificateIdentity(cert.Issuer, "", cert.SubjectAlternativeName, "")
	if err != nil {
		return store.Record{}, nil, nil, environmentErr(err)
	}
	v, err := attest.Verify(ctx, bundle, attest.NewKeySet().AddIdentities(attest.Identity{Name: cert.SubjectAlternativeName, Match: self}), vopts...)
	if err != nil {
		return store.Record{}, nil, nil, environmentErr(fmt.Errorf("self-check of the new bundle failed: %w", err))
	}
	a.describeTransparency(v)
	s, err := a.openStore(ctx)
	if err != nil {
		return store.Record{}, nil, nil, err
	}
	defer s.Close()
	rec, err := s.Put(ctx, v)
	if err != nil {
		return store.Record{}, nil, nil, storeError(err)
	}
	return rec, bundle, cert, nil
}
