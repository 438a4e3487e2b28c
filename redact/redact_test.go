package redact_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hallmark-dev/hallmark/redact"
	"github.com/hallmark-dev/hallmark/secrets/secretstest"
)

func newRedactor(t *testing.T) *redact.Redactor {
	t.Helper()
	r, err := redact.New()
	if err != nil {
		t.Fatalf("redact.New: %v", err)
	}
	return r
}

func assertNoNeedles(t *testing.T, out string, needles []string) {
	t.Helper()
	for _, n := range needles {
		if strings.Contains(out, n) {
			t.Errorf("output leaks canary part %.6s…: %q", n, out)
		}
	}
}

// TestEnvCanaries puts every canary credential in an environment variable
// whose name does not give it away, so value-shape detection is exercised.
func TestEnvCanaries(t *testing.T) {
	r := newRedactor(t)
	for _, c := range secretstest.Canaries(t, 7) {
		if c.EnvName == "" {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			env := []string{"PATH=/usr/bin:/bin", c.EnvName + "=" + c.EnvValue, "CI=true"}
			got := r.Env(env)
			if len(got) != 3 || got[0] != env[0] || got[2] != env[2] {
				t.Errorf("neighbouring variables changed: %q", got)
			}
			if !strings.HasPrefix(got[1], c.EnvName+"=[REDACTED") && !strings.Contains(got[1], "[REDACTED") {
				t.Errorf("value not masked: %q", got[1])
			}
			assertNoNeedles(t, strings.Join(got, "\n"), c.Needles)
			m := r.EnvMap(map[string]string{c.EnvName: c.EnvValue})
			assertNoNeedles(t, m[c.EnvName], c.Needles)
		})
	}
}

func TestEnvByName(t *testing.T) {
	r := newRedactor(t)
	for _, tc := range []struct {
		in, want string
	}{
		{"GITHUB_TOKEN=short", "GITHUB_TOKEN=[REDACTED]"},
		{"DB_PASSWORD=hunter2", "DB_PASSWORD=[REDACTED]"},
		{"dbPassword=hunter2", "dbPassword=[REDACTED]"},
		{"NPM_AUTH=abc", "NPM_AUTH=[REDACTED]"},
		{"SIGNING_KEY=abc", "SIGNING_KEY=[REDACTED]"},
		{"GOOGLE_APPLICATION_CREDENTIALS=/run/sa.json", "GOOGLE_APPLICATION_CREDENTIALS=[REDACTED]"},
		{"MYAPITOKEN=abc", "MYAPITOKEN=[REDACTED]"},
		{"SESSION_ID=abc", "SESSION_ID=[REDACTED]"},
		{"EMPTY_SECRET=", "EMPTY_SECRET="},
		// Not credentials: kept verbatim.
		{"PWD=/work/src", "PWD=/work/src"},
		{"PATH=/usr/local/go/bin:/usr/bin", "PATH=/usr/local/go/bin:/usr/bin"},
		{"GITHUB_SHA=3f786850e387550fdab836ed7e6dc881de23001b", "GITHUB_SHA=3f786850e387550fdab836ed7e6dc881de23001b"},
		{"GIT_AUTHOR_NAME=Ada Lovelace", "GIT_AUTHOR_NAME=Ada Lovelace"},
		{"GOPROXY=https://proxy.golang.org,direct", "GOPROXY=https://proxy.golang.org,direct"},
		{"RUN_ID=123e4567-e89b-12d3-a456-426614174000", "RUN_ID=123e4567-e89b-12d3-a456-426614174000"},
		{"IMAGE=ghcr.io/acme/app@sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", "IMAGE=ghcr.io/acme/app@sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"},
		{"KEYBOARD=us", "KEYBOARD=us"},
		{"NOEQUALS", "NOEQUALS"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got := r.Env([]string{tc.in})
			if diff := cmp.Diff([]string{tc.want}, got); diff != "" {
				t.Errorf("Env(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestStringCanaries(t *testing.T) {
	r := newRedactor(t)
	for _, c := range secretstest.Canaries(t, 11) {
		t.Run(c.Name, func(t *testing.T) {
			in := "step 3: running with config\n" + c.Text + "done\n"
			got := r.String(in)
			assertNoNeedles(t, got, c.Needles)
			if !strings.HasPrefix(got, "step 3: running with config\n") || !strings.HasSuffix(got, "done\n") {
				t.Errorf("text around the secret changed: %q", got)
			}
			if again := r.String(got); again != got {
				t.Errorf("String is not idempotent:\n%q\n%q", got, again)
			}
		})
	}
}

func TestString(t *testing.T) {
	r := newRedactor(t)
	for _, tc := range []struct{ in, want string }{
		{"docker login -u ci --password hunter2 ghcr.io", "docker login -u ci --password [REDACTED] ghcr.io"},
		{"mysql --password=hunter2 -h db", "mysql --password=[REDACTED] -h db"},
		{`{"user": "ci", "api_token": "abc123"}`, `{"user": "ci", "api_token": "[REDACTED]"}`},
		{"export DB_PASS='s3cr3t pass'; make", "export DB_PASS='[REDACTED]'; make"},
		{"clone https://ci:hunter2x@git.internal/repo.git", "clone https://ci:[REDACTED:url-password]@git.internal/repo.git"},
		{"password: ${DB_PASSWORD}", "password: ${DB_PASSWORD}"},
		{"token: {{ .Values.token }}", "token: {{ .Values.token }}"},
		{"the key is in the vault", "the key is in the vault"},
		{"go build -trimpath -o out/app ./cmd/app", "go build -trimpath -o out/app ./cmd/app"},
		{"", ""},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := r.String(tc.in); got != tc.want {
				t.Errorf("String(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestPackageFunctionsShareRules(t *testing.T) {
	c := secretstest.Canaries(t, 3)[2] // github pat
	got := redact.Env([]string{"X=" + c.EnvValue})
	assertNoNeedles(t, got[0], c.Needles)
	if m := redact.EnvMap(map[string]string{"X": c.EnvValue}); m["X"] == c.EnvValue {
		t.Errorf("EnvMap kept the token")
	}
	if s := redact.String(c.Text); s == c.Text {
		t.Errorf("String kept the token")
	}
}

func TestMask(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH PRIVATE KEY-----", "-----BEGIN OPENSSH PRIVATE KEY----- [REDACTED]"},
		{"AKIA" + strings.Repeat("Q", 16), "AKIA********"},
		{"hunter2", "********"},
		{"", "********"},
	} {
		if got := redact.Mask(tc.in); got != tc.want {
			t.Errorf("Mask(%.10q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestHighEntropy(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"3f786850e387550fdab836ed7e6dc881de23001b", false}, // hex commit ID
		{"123e4567-e89b-12d3-a456-426614174000", false},     // UUID
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1", false},
		{"thisisjustalongwordwithoutdigits", false},
		{"/usr/local/bin:/usr/bin:/bin", false},
		{"kT9vQ2xLm8ZpR4wN7cHb1YdJ6sFg3UeA", true},
	} {
		if got := redact.HighEntropy(tc.in); got != tc.want {
			t.Errorf("HighEntropy(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
	if !slices.Equal(redact.Env([]string{"A=b"}), []string{"A=b"}) {
		t.Error("trivial env changed")
	}
}
