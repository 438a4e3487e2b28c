package tlogtest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/hallmark-dev/hallmark/internal/tooltest"
	"github.com/hallmark-dev/hallmark/tlog"
)

// Fulcio is a running Fulcio certificate authority (the real server, with
// its ephemeral in-memory CA and no CT log) trusting one OIDC issuer.
type Fulcio struct {
	// URL is Fulcio's base URL, http://127.0.0.1:PORT.
	URL string
	// Chain is its CA certificate chain, root last.
	Chain []*x509.Certificate
	// Started is when it started; the trusted root trusts its CA from a
	// minute before.
	Started time.Time
	// Issuer is the OIDC issuer Fulcio accepts tokens from.
	Issuer *Issuer
}

// CA returns the trusted-root entry for f.
func (f *Fulcio) CA() tlog.CA {
	return tlog.CA{URL: f.URL, Chain: f.Chain, ValidFrom: f.Started.Add(-time.Minute)}
}

// Issuer is an OpenID Connect issuer on loopback: discovery document and
// JWKS, and ID tokens signed with its RSA key. Fulcio fetches its keys
// through OIDC discovery exactly as it does Google's or GitHub's.
type Issuer struct {
	// URL is the issuer identifier, http://127.0.0.1:PORT.
	URL string
	// GitHubRequestURL and GitHubRequestToken answer the token request of
	// GitHub Actions (ACTIONS_ID_TOKEN_REQUEST_URL, _TOKEN) with a token of
	// this issuer for GitHubSubject: GitHub's token service speaks that
	// small protocol and cannot run outside GitHub.
	GitHubRequestURL, GitHubRequestToken, GitHubSubject string
	signer                                              jose.Signer
}

// Token returns an ID token for the audience "sigstore" whose subject and
// verified email is email, valid for ten minutes.
func (i *Issuer) Token(t testing.TB, email string) string {
	t.Helper()
	tok, err := i.token(email)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (i *Issuer) token(email string) (string, error) {
	now := time.Now()
	claims := map[string]any{
		"iss": i.URL, "sub": email, "aud": "sigstore", "email": email, "email_verified": true,
		"iat": now.Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(10 * time.Minute).Unix(),
	}
	return jwt.Signed(i.signer).Claims(claims).Serialize()
}

// StartIssuer starts an OIDC issuer for the test.
func StartIssuer(t testing.TB) *Issuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwk := jose.JSONWebKey{Key: key.Public(), KeyID: "test-issuer", Algorithm: string(jose.RS256), Use: "sig"}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "test-issuer"}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": srv.URL, "jwks_uri": srv.URL + "/jwks", "authorization_endpoint": srv.URL + "/auth",
			"response_types_supported": []string{"id_token"}, "subject_types_supported": []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{jwk}})
	})
	iss := &Issuer{URL: srv.URL, signer: signer, GitHubRequestURL: srv.URL + "/github/token?api-version=2.0",
		GitHubRequestToken: rand.Text(), GitHubSubject: "ci@example.com"}
	mux.HandleFunc("GET /github/token", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "bearer "+iss.GitHubRequestToken || r.URL.Query().Get("audience") != "sigstore" {
			http.Error(w, "bad request token or audience", http.StatusUnauthorized)
			return
		}
		tok, err := iss.token(iss.GitHubSubject)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"count": 1, "value": tok})
	})
	return iss
}

// StartFulcio starts an OIDC issuer and the fulcio server trusting it for
// email identities, and stops both when the test ends.
func StartFulcio(t testing.TB) *Fulcio {
	t.Helper()
	bin := tooltest.Find(t, "fulcio")
	iss := StartIssuer(t)
	dir := t.TempDir()
	cfg := map[string]any{"OIDCIssuers": map[string]any{iss.URL: map[string]any{"IssuerURL": iss.URL, "ClientID": "sigstore", "Type": "email"}}}
	b, _ := json.Marshal(cfg)
	cfgPath := filepath.Join(dir, "config.json")
	if err := os.WriteFile(cfgPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	ports := freePorts(t, 3)
	base := fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	started := time.Now()
	start(t, "fulcio", bin, []string{"serve",
		"--host", "127.0.0.1", "--port", strconv.Itoa(ports[0]),
		"--grpc-host", "127.0.0.1", "--grpc-port", strconv.Itoa(ports[1]),
		"--metrics-port", strconv.Itoa(ports[2]),
		"--legacy-unix-domain-socket", filepath.Join(dir, "legacy.sock"),
		"--ca", "ephemeralca", "--ct-log-url", "",
		"--config-path", cfgPath, "--log_type", "prod",
	}, base+"/healthz")
	resp, err := http.Get(base + "/api/v2/trustBundle")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var bundle struct {
		Chains []struct {
			Certificates []string `json:"certificates"`
		} `json:"chains"`
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil || resp.StatusCode != http.StatusOK || json.Unmarshal(body, &bundle) != nil || len(bundle.Chains) == 0 {
		t.Fatalf("fulcio trust bundle: %s %v %q", resp.Status, err, body)
	}
	var chain []*x509.Certificate
	for _, p := range bundle.Chains[0].Certificates {
		blk, _ := pem.Decode([]byte(p))
		if blk == nil {
			t.Fatalf("fulcio trust bundle: not PEM: %q", p)
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		chain = append(chain, c)
	}
	return &Fulcio{URL: base, Chain: chain, Started: started, Issuer: iss}
}

// StartKeyless starts a log, a TSA and Fulcio (with its OIDC issuer) for
// the test, and writes a trusted root trusting all three.
func StartKeyless(t testing.TB) (*Services, *Fulcio) {
	t.Helper()
	l := StartLog(t)
	ts := StartTSA(t)
	f := StartFulcio(t)
	raw, err := tlog.NewRoot(
		[]tlog.Log{{BaseURL: l.URL, PublicKey: l.PublicKey, ValidFrom: l.Started.Add(-time.Minute)}},
		[]tlog.TSA{{URL: ts.URL, Chain: ts.Chain}}, f.CA())
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "trusted_root.json")
	if err := os.WriteFile(p, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return &Services{Log: l, TSA: ts, Root: raw, RootPath: p}, f
}
