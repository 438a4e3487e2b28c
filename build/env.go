package build

import (
	"maps"
	"math"
	"regexp"
	"slices"
	"strings"
)

// SecretFunc reports whether an environment variable looks like a
// credential and so must never be recorded.
type SecretFunc func(name, value string) bool

// DefaultEnvAllowlist is the set of caller variables passed to a build when
// the Spec names none.
var DefaultEnvAllowlist = []string{"PATH"}

// neverPassed are variables that give access to the caller's agents; they
// are not passed to a build even when allowlisted.
var neverPassed = []string{"SSH_AUTH_SOCK", "SSH_AGENT_PID", "GPG_AGENT_INFO", "DBUS_SESSION_BUS_ADDRESS"}

// secretNameParts are upper-case substrings of variable names that hold
// credentials.
var secretNameParts = []string{
	"TOKEN", "SECRET", "PASSWORD", "PASSWD", "PASSPHRASE", "PRIVATE", "CREDENTIAL",
	"API_KEY", "APIKEY", "ACCESS_KEY", "_KEY", "AUTH", "COOKIE", "SESSION", "SIGNING",
	"DSN", "DATABASE_URL", "CONNECTION_STRING", "WEBHOOK",
}

// secretNamePrefixes are cloud and CI credential families.
var secretNamePrefixes = []string{"AWS_", "AZURE_", "GCP_", "GOOGLE_", "GH_", "GITHUB_", "NPM_", "DOCKER_", "VAULT_", "TWINE_", "CI_JOB_"}

// secretValues are the shapes of well-known credential formats.
var secretValues = []*regexp.Regexp{
	regexp.MustCompile(`\b(AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b`),    // AWS access key ID
	regexp.MustCompile(`\bgh[pousr]_[A-Za-z0-9]{30,}`),                  // GitHub token
	regexp.MustCompile(`\bgithub_pat_[A-Za-z0-9_]{40,}`),                // GitHub fine-grained PAT
	regexp.MustCompile(`\bglpat-[A-Za-z0-9_-]{20,}`),                    // GitLab PAT
	regexp.MustCompile(`\bxox[abposr]-[A-Za-z0-9-]{10,}`),               // Slack
	regexp.MustCompile(`\bnpm_[A-Za-z0-9]{36}\b`),                       // npm
	regexp.MustCompile(`\b(sk|rk)_(live|test)_[A-Za-z0-9]{16,}`),        // Stripe
	regexp.MustCompile(`\bsk-[A-Za-z0-9_-]{20,}`),                       // API secret keys
	regexp.MustCompile(`\bAIza[0-9A-Za-z_-]{35}\b`),                     // Google API key
	regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY`),                 // PEM private key
	regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}`),  // JWT
	regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]+:[^/\s@]+@`), // URL with a password
}

// DefaultIsSecret flags a variable as a credential by its name (TOKEN,
// SECRET, PASSWORD, *_KEY, AUTH, AWS_*, GITHUB_* and similar), by a value
// in a known credential format, or by a long value that looks random.
func DefaultIsSecret(name, value string) bool {
	up := strings.ToUpper(name)
	for _, p := range secretNameParts {
		if strings.Contains(up, p) {
			return true
		}
	}
	for _, p := range secretNamePrefixes {
		if strings.HasPrefix(up, p) {
			return true
		}
	}
	for _, re := range secretValues {
		if re.MatchString(value) {
			return true
		}
	}
	return looksRandom(value)
}

// looksRandom reports a value of 32 or more token characters that mixes
// upper case, lower case and digits with high per-character entropy, the
// shape of generated keys. Paths, flags and hex commit IDs do not qualify.
func looksRandom(v string) bool {
	if len(v) < 32 || strings.ContainsAny(v[:1], "/.~") {
		return false // short, or a path
	}
	var upper, lower, digit bool
	counts := map[rune]int{}
	for _, r := range v {
		switch {
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= '0' && r <= '9':
			digit = true
		case strings.ContainsRune("+/=_-.", r):
		default:
			return false
		}
		counts[r]++
	}
	if !upper || !lower || !digit {
		return false
	}
	var h float64
	n := float64(len(v))
	for _, c := range counts {
		p := float64(c) / n
		h -= p * math.Log2(p)
	}
	return h >= 4.0
}

// envPlan is the environment given to a build and what may be recorded.
type envPlan struct {
	env      []string          // KEY=VALUE passed to the command
	recorded map[string]string // safe to record
	redacted []string          // passed, never recorded
}

// planEnv selects the allowlisted caller variables, adds the fixed ones and
// splits what is recordable from what looks secret.
func planEnv(caller []string, allow []string, fixed map[string]string, isSecret SecretFunc) envPlan {
	vals := map[string]string{}
	for _, kv := range caller {
		k, v, ok := strings.Cut(kv, "=")
		if ok {
			vals[k] = v
		}
	}
	p := envPlan{recorded: map[string]string{}}
	set := map[string]string{}
	for _, name := range allow {
		if v, ok := vals[name]; ok && !slices.Contains(neverPassed, name) {
			set[name] = v
		}
	}
	for k, v := range fixed {
		set[k] = v
	}
	for _, k := range slices.Sorted(maps.Keys(set)) {
		v := set[k]
		p.env = append(p.env, k+"="+v)
		if k == "HOME" {
			continue // a per-run temporary path, not a parameter
		}
		if isSecret(k, v) {
			p.redacted = append(p.redacted, k)
			continue
		}
		p.recorded[k] = v
	}
	return p
}
