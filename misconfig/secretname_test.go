package misconfig

import "testing"

func TestIsSecretName(t *testing.T) {
	for name, want := range map[string]bool{
		"DB_PASSWORD": true, "NPM_TOKEN": true, "GITHUB_TOKEN": true, "apiKey": true, "API_KEY": true,
		"AWS_SECRET_ACCESS_KEY": true, "client-secret": true, "SECRET_KEY_BASE": true, "PGPASSWORD": true, "MYSQLPASSWORD": true,
		"DATABASE_PASSWORD": true, "STRIPE_API_KEY": true, "tls.key": false, "PASSWORD_FILE": false,
		"TOKEN_URL": false, "AWS_ACCESS_KEY_ID": false, "TOKENIZER_MODEL": false, "AUTHOR": false,
		"MAVEN_REPO_URL": false, "DB_PASS": true, "signingKey": true, "LOG_LEVEL": false, "KEY": false,
	} {
		if got := isSecretName(name); got != want {
			t.Errorf("isSecretName(%q) = %v, want %v", name, got, want)
		}
	}
}
