package secretstest

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// Canary is one fake credential embedded in file content.
type Canary struct {
	// Name says what the canary imitates.
	Name string
	// Rules are the rule IDs a scanner must report for Text.
	Rules []string
	// Text is file content (one or more lines) that contains the credential.
	Text string
	// Needles are substrings of the credential that must never appear in a
	// scanner's or redactor's output.
	Needles []string
	// EnvName and EnvValue give the credential as an environment variable.
	EnvName, EnvValue string
}

const (
	upper  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	lower  = "abcdefghijklmnopqrstuvwxyz"
	digits = "0123456789"
	base62 = upper + lower + digits
	b32    = upper + "234567"
	b64    = base62 + "+/"
)

type gen struct{ r *mrand.Rand }

func (g gen) str(alphabet string, n int) string {
	var b strings.Builder
	for range n {
		b.WriteByte(alphabet[g.r.IntN(len(alphabet))])
	}
	return b.String()
}

// needles returns s and its middle part, so a partial leak is caught too.
func needles(s string) []string {
	if len(s) < 12 {
		return []string{s}
	}
	return []string{s, s[len(s)/3 : 2*len(s)/3]}
}

// pemNeedles returns the longest base64 body lines of a PEM block.
func pemNeedles(block string) []string {
	var out []string
	for _, l := range strings.Split(block, "\n") {
		if len(l) >= 40 && !strings.HasPrefix(l, "-----") {
			out = append(out, l)
		}
	}
	if len(out) > 3 {
		out = out[:3]
	}
	return out
}

// JWT builds an HS256-signed JSON Web Token with the given claims.
func JWT(claims map[string]any, key []byte) string {
	enc := base64.RawURLEncoding
	h, _ := json.Marshal(map[string]string{"alg": "HS256", "typ": "JWT"})
	p, _ := json.Marshal(claims)
	signing := enc.EncodeToString(h) + "." + enc.EncodeToString(p)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(mac.Sum(nil))
}

// RSAKeyPEM generates a 2048-bit RSA key and returns it PEM-encoded in
// PKCS#1 ("RSA PRIVATE KEY") form.
func RSAKeyPEM(t testing.TB) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("generating RSA canary key: %v", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
}

// PKCS8KeyPEM generates an Ed25519 key PEM-encoded as PKCS#8 ("PRIVATE KEY").
func PKCS8KeyPEM(t testing.TB) string {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("generating Ed25519 canary key: %v", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatalf("encoding canary key: %v", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// OpenSSHKeyPEM generates an Ed25519 key in OpenSSH private key format.
func OpenSSHKeyPEM(t testing.TB) string {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("generating Ed25519 canary key: %v", err)
	}
	b, err := ssh.MarshalPrivateKey(k, "hallmark canary")
	if err != nil {
		t.Fatalf("encoding OpenSSH canary key: %v", err)
	}
	return string(pem.EncodeToMemory(b))
}

// Canaries returns one canary per credential kind Hallmark must detect. The
// seed makes random parts reproducible; private keys are freshly generated.
func Canaries(t testing.TB, seed uint64) []Canary {
	t.Helper()
	g := gen{mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	var cs []Canary
	add := func(c Canary) { cs = append(cs, c) }

	akid := "AKIA" + g.str(b32, 16)
	add(Canary{Name: "aws access key id", Rules: []string{"aws-access-token"},
		Text: "[default]\naws_access_key_id = " + akid + "\n", Needles: []string{akid},
		EnvName: "AWS_ACCESS_KEY_ID", EnvValue: akid})

	aws := g.str(b64, 40)
	add(Canary{Name: "aws secret access key", Rules: []string{"aws-secret-access-key"},
		Text: "aws_secret_access_key = " + aws + "\n", Needles: needles(aws),
		EnvName: "AWS_SECRET_ACCESS_KEY", EnvValue: aws})

	ghp := "ghp_" + g.str(base62, 36)
	add(Canary{Name: "github pat", Rules: []string{"github-pat"},
		Text: "export GH_TOKEN=" + ghp + "\n", Needles: needles(ghp),
		EnvName: "BUILD_VAR_1", EnvValue: ghp})

	glpat := "glpat-" + g.str(base62, 20)
	add(Canary{Name: "gitlab pat", Rules: []string{"gitlab-pat"},
		Text: "gitlab:\n  token: " + glpat + "\n", Needles: needles(glpat),
		EnvName: "CI_EXTRA", EnvValue: glpat})

	slack := fmt.Sprintf("xoxb-%s-%s-%s", g.str(digits, 12), g.str(digits, 13), g.str(base62, 24))
	add(Canary{Name: "slack bot token", Rules: []string{"slack-bot-token"},
		Text: `{"slack": "` + slack + `"}` + "\n", Needles: needles(slack),
		EnvName: "NOTIFY", EnvValue: slack})

	stripe := "sk_live_" + g.str(base62, 24)
	add(Canary{Name: "stripe key", Rules: []string{"stripe-access-token"},
		Text: "STRIPE_KEY: '" + stripe + "'\n", Needles: needles(stripe),
		EnvName: "PAYMENTS", EnvValue: stripe})

	jwt := JWT(map[string]any{"sub": "canary-" + g.str(lower, 8), "iss": "https://auth.hallmark.test", "iat": 1767225600}, []byte(g.str(base62, 32)))
	add(Canary{Name: "jwt", Rules: []string{"curl-auth-header", "jwt"},
		Text: "curl -H \"Authorization: Bearer " + jwt + "\" https://api.hallmark.test/v1\n", Needles: needles(jwt),
		EnvName: "SESSION_BLOB", EnvValue: jwt})

	rsaKey := RSAKeyPEM(t)
	add(Canary{Name: "rsa private key", Rules: []string{"private-key"},
		Text: rsaKey, Needles: pemNeedles(rsaKey), EnvName: "DEPLOY_PEM", EnvValue: rsaKey})

	sshKey := OpenSSHKeyPEM(t)
	add(Canary{Name: "openssh private key", Rules: []string{"private-key"},
		Text: sshKey, Needles: pemNeedles(sshKey), EnvName: "SSH_MATERIAL", EnvValue: sshKey})

	pk8 := PKCS8KeyPEM(t)
	keyID := g.str(digits+"abcdef", 40)
	sa, _ := json.MarshalIndent(map[string]string{
		"type":           "service_account",
		"project_id":     "hallmark-canary",
		"private_key_id": keyID,
		"private_key":    pk8,
		"client_email":   "builder@hallmark-canary.iam.gserviceaccount.com",
		"client_id":      g.str(digits, 21),
		"token_uri":      "https://oauth2.googleapis.com/token",
	}, "", "  ")
	add(Canary{Name: "gcp service account", Rules: []string{"gcp-service-account-key", "private-key"},
		Text: string(sa) + "\n", Needles: append([]string{keyID}, pemNeedles(pk8)...)})

	azKey := g.str(b64, 86) + "=="
	add(Canary{Name: "azure storage connection string", Rules: []string{"azure-storage-account-key"},
		Text:    "AZURE_STORAGE_CONNECTION_STRING=DefaultEndpointsProtocol=https;AccountName=hmcanary;AccountKey=" + azKey + ";EndpointSuffix=core.windows.net\n",
		Needles: needles(azKey), EnvName: "BLOB_CONN", EnvValue: "DefaultEndpointsProtocol=https;AccountName=hmcanary;AccountKey=" + azKey})

	azAD := g.str(base62, 3) + "8Q~" + g.str(base62, 34)
	add(Canary{Name: "azure ad client secret", Rules: []string{"azure-ad-client-secret"},
		Text: "az login --service-principal -u " + g.str(digits, 8) + " -p " + azAD + " --tenant t\n", Needles: needles(azAD),
		EnvName: "AZ_SP", EnvValue: azAD})

	pw := g.str(base62, 18)
	add(Canary{Name: "password in url", Rules: []string{"url-password"},
		Text: "DATABASE_URL=postgres://app:" + pw + "@db.internal:5432/app?sslmode=require\n", Needles: []string{pw},
		EnvName: "DATABASE_URL", EnvValue: "postgres://app:" + pw + "@db.internal:5432/app"})

	gen := g.str(base62, 32)
	add(Canary{Name: "generic secret assignment", Rules: []string{"generic-api-key"},
		Text: "const clientSecret = \"" + gen + "\"\n", Needles: needles(gen),
		EnvName: "OPAQUE_VALUE", EnvValue: gen})
	return cs
}
