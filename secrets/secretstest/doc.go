// Package secretstest builds canary credentials for tests: fake but
// well-formed values in the shape of real ones (AWS keys, GitHub, GitLab,
// Slack and Stripe tokens, freshly generated RSA and OpenSSH private keys, a
// signed JWT, a GCP service-account key file, Azure keys, passwords in URLs
// and generic high-entropy assignments). Values are generated at test time
// from a seed, so no credential-shaped literal lives in the repository.
package secretstest
