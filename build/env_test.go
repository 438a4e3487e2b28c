package build_test

import (
	"testing"

	"github.com/hallmark-dev/hallmark/build"
)

func TestDefaultIsSecret(t *testing.T) {
	tests := []struct {
		name, value string
		want        bool
	}{
		{"PATH", "/usr/local/go/bin:/usr/bin:/bin", false},
		{"GOFLAGS", "-trimpath -mod=readonly", false},
		{"LANG", "C.UTF-8", false},
		{"GIT_COMMIT", "8817f99a0b1c2d3e4f5061728394a5b6c7d8e9f0", false},
		{"BUILD_NUMBER", "1234", false},
		{"HOSTNAME", "builder-7", false},
		// By name.
		{"GITHUB_TOKEN", "x", true},
		{"NPM_TOKEN", "canary", true},
		{"MY_API_KEY", "canary", true},
		{"DB_PASSWORD", "hunter2", true},
		{"AWS_REGION", "eu-west-1", true},
		{"SSH_AUTH_SOCK", "/tmp/ssh-XXXX/agent.1", true},
		{"client_secret", "canary", true},
		// By value shape, under innocent names.
		{"NOTE", "AKIA" + "CANARY0EXAMPLE00", true},
		{"NOTE", "ghp_" + "CanaryCanaryCanaryCanaryCanary0000", true},
		{"NOTE", "glpat-" + "canarycanarycanary00", true},
		{"NOTE", "xoxb-" + "1234567890-canary", true},
		{"NOTE", "-----BEGIN OPENSSH " + "PRIVATE KEY-----\ncanary", true},
		{"NOTE", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjYW5hcnkifQ.c2ln", true},
		{"MIRROR", "https://user:" + "canarypass@mirror.example.com/simple", true},
		{"NOTE", "Zx9Qm2Lr7Tp4Wv8Ks3Nd6Hj1Bf5Gc0Ya", true},
		{"MIRROR", "https://mirror.example.com/simple", false},
		{"GOCACHE", "/tmp/TestRunGoProgramSandboxed1915212958/009", false},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			if got := build.DefaultIsSecret(tt.name, tt.value); got != tt.want {
				t.Errorf("DefaultIsSecret(%q, %q) = %v, want %v", tt.name, tt.value, got, tt.want)
			}
		})
	}
}
