package cli

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/internal/tooltest"
	"github.com/hallmark-dev/hallmark/tlog/tlogtest"
)

// Real public-good bundles: attest/testdata/publicgood/README.md.
var publicGood = filepath.Join("..", "..", "attest", "testdata", "publicgood")

const (
	sigstore130 = "sha512:76176ffa33808b54602c7c35de5c6e9a4deb96066dba6533f50ac234f4f1f4c6b3527515dc17c06fbe2860030f410eee69ea20079bd3a2c6f3dcf3b329b10751"
	sigstore200 = "sha512:46d4e2f74c4877316640000a6fdf8a8b59f1e0847667973e9859f774dd31b8f1e0937813b777fb66a2ac67d50540fe34640966eee9fc2ccca387082b4c85cd3c"
)

// TestGateKeylessPublicGoodProvenance is the done-when test of keyless
// identities: an npm package whose only evidence is the provenance npm and
// GitHub Actions published (a real public-good Sigstore bundle, verified
// offline at its Rekor entry's integrated time) is allowed under a policy
// naming its repository and denied under one naming another; the
// messages name the certificate's identity.
func TestGateKeylessPublicGoodProvenance(t *testing.T) {
	ta := newTestApp(t)
	dir := t.TempDir()
	ta.mustRun(t, "keygen", filepath.Join(dir, "gate"))
	trustFile := writeFile(t, filepath.Join(dir, "trust.yaml"), `version: 1
keys:
  - {name: gate, publicKey: gate.pub, roles: [gate]}
identities:
  - name: sigstore-js-release
    issuer: https://token.actions.githubusercontent.com
    subjectRegexp: https://github\.com/sigstore/sigstore-js/\.github/workflows/release\.yml@refs/heads/main
    sourceRepositoryURI: https://github.com/sigstore/sigstore-js
    runnerEnvironment: github-hosted
    roles: [builder]
`)
	preset := func(repo string) string {
		return writeFile(t, filepath.Join(dir, strings.ReplaceAll(repo, "/", "_")+".yaml"), `version: 1
environments:
  prod:
    rules: [slsa_l1, slsa_l2, source, identity]
    source:
      repositories: [`+repo+`]
      refs: [refs/heads/main]
    identity:
      repositories: [`+repo+`]
      refs: [refs/heads/main]
      workflows: [.github/workflows/release.yml]
`)
	}
	allowPolicy := preset("https://github.com/sigstore/sigstore-js")
	denyPolicy := preset("https://github.com/example/other")
	gate := func(artifact, bundle, pol string, extra ...string) (int, string) {
		t.Helper()
		args := append([]string{"gate", artifact, "--env", "prod", "--trust", trustFile, "--key", filepath.Join(dir, "gate.key"),
			"--policy", pol, "--bundle", filepath.Join(publicGood, bundle)}, extra...)
		code := ta.run(args...)
		return code, ta.out.String() + ta.errOut.String()
	}
	root := filepath.Join(publicGood, "trusted_root.json")
	for _, tc := range []struct{ name, artifact, bundle string }{
		{"SLSA v0.2 in bundle v0.1 (sigstore@1.3.0)", sigstore130, "npm-sigstore-1.3.0.provenance.json"},
		{"SLSA v1 (sigstore@2.0.0)", sigstore200, "npm-sigstore-2.0.0.provenance.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, out := gate(tc.artifact, tc.bundle, allowPolicy, "--trusted-root", root); code != ExitOK || !strings.Contains(out, "ALLOW") {
				t.Fatalf("policy naming the bundle's repository: exit %d, want %d:\n%s", code, ExitOK, out)
			}
			code, out := gate(tc.artifact, tc.bundle, denyPolicy, "--trusted-root", root)
			if code != ExitRejected || !strings.Contains(out, "source.repository_not_allowed") || !strings.Contains(out, "identity.not_allowed") ||
				!strings.Contains(out, `repository "https://github.com/sigstore/sigstore-js" is not allowed`) {
				t.Fatalf("policy naming another repository: exit %d, want %d naming the repository:\n%s", code, ExitRejected, out)
			}
			// Without a trusted root the certificate cannot be checked: the
			// bundle is ignored, saying which flag is missing, and the gate denies.
			code, out = gate(tc.artifact, tc.bundle, allowPolicy)
			if code != ExitRejected || !strings.Contains(out, "--trusted-root") {
				t.Fatalf("no trusted root: exit %d, want %d naming --trusted-root:\n%s", code, ExitRejected, out)
			}
		})
	}
	// The bundle is about sigstore@1.3.0, not another package.
	if code, out := gate(sigstore200, "npm-sigstore-1.3.0.provenance.json", allowPolicy, "--trusted-root", root); code != ExitRejected || !strings.Contains(out, "not about this artifact") {
		t.Fatalf("bundle for another package: exit %d:\n%s", code, out)
	}
	// A trust file whose identity names another repository does not trust
	// the signer, and says who signed and why it did not match.
	otherTrust := writeFile(t, filepath.Join(dir, "other-trust.yaml"), strings.ReplaceAll(mustRead(t, trustFile), "sourceRepositoryURI: https://github.com/sigstore/sigstore-js", "sourceRepositoryURI: https://github.com/example/other"))
	code := ta.run("gate", sigstore130, "--env", "prod", "--trust", otherTrust, "--key", filepath.Join(dir, "gate.key"), "--policy", allowPolicy,
		"--bundle", filepath.Join(publicGood, "npm-sigstore-1.3.0.provenance.json"), "--trusted-root", root)
	out := ta.out.String() + ta.errOut.String()
	if code != ExitRejected || !strings.Contains(out, "subject https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main") ||
		!strings.Contains(out, "sigstore-js-release: ") || !strings.Contains(out, "https://github.com/example/other") {
		t.Fatalf("untrusted identity: exit %d, want %d naming the signer and the mismatch:\n%s", code, ExitRejected, out)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestApproveKeylessDistinctPeople signs approvals without keys through the
// real Fulcio server (OIDC token from $SIGSTORE_ID_TOKEN, then from GitHub
// Actions' token request), and shows that the gate counts people: alice's
// keyless approval and one with her key (person: alice@example.com) make
// one approver, not two.
func TestApproveKeylessDistinctPeople(t *testing.T) {
	svc, f := tlogtest.StartKeyless(t)
	ta := newTestApp(t)
	dir := t.TempDir()
	for _, n := range []string{"alice-laptop", "carol", "gate"} {
		ta.mustRun(t, "keygen", filepath.Join(dir, n))
	}
	trustFile := writeFile(t, filepath.Join(dir, "trust.yaml"), `version: 1
keys:
  - {name: alice-laptop, publicKey: alice-laptop.pub, roles: [approver], person: alice@example.com}
  - {name: carol, publicKey: carol.pub, roles: [approver]}
  - {name: gate, publicKey: gate.pub, roles: [gate]}
identities:
  - name: alice
    issuer: `+f.Issuer.URL+`
    subject: alice@example.com
    roles: [approver]
  - name: ci
    issuer: `+f.Issuer.URL+`
    subjectRegexp: ci@example\.com
    roles: [approver]
`)
	preset := writeFile(t, filepath.Join(dir, "preset.yaml"), "version: 1\nenvironments:\n  prod:\n    rules: [approvals]\n    approvals: {min: 2}\n")
	art := writeFile(t, filepath.Join(dir, "app.bin"), "binary contents")
	// The operator's trusted root, written by hallmark tlog root: its log,
	// its TSA and its Fulcio CA.
	der, err := x509.MarshalPKIXPublicKey(svc.Log.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	logKey := writeFile(t, filepath.Join(dir, "log.pub"), string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})))
	pemChain := func(name string, certs []*x509.Certificate) string {
		var b []byte
		for _, c := range certs {
			b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
		}
		return writeFile(t, filepath.Join(dir, name), string(b))
	}
	rootFile := filepath.Join(dir, "trusted_root.json")
	ta.mustRun(t, "tlog", "root", "--log", svc.Log.URL, "--log-key", logKey, "--log-valid-from", svc.Log.Started.Add(-time.Minute).Format(time.RFC3339),
		"--tsa", svc.TSA.URL, "--tsa-chain", pemChain("tsa.pem", svc.TSA.Chain),
		"--fulcio", f.URL, "--fulcio-chain", pemChain("fulcio.pem", f.Chain), "--out", rootFile)
	ta.env[TlogEnv] = svc.Log.URL
	ta.env[TSAEnv] = svc.TSA.URL
	ta.env[TrustedRootEnv] = rootFile
	ta.env[FulcioEnv] = f.URL
	gate := func() (int, string) {
		t.Helper()
		code := ta.run("gate", art, "--env", "prod", "--trust", trustFile, "--key", filepath.Join(dir, "gate.key"), "--policy", preset)
		return code, ta.out.String() + ta.errOut.String()
	}

	// No token: a usage error naming where the token comes from.
	if code := ta.run("approve", art, "--env", "prod", "--keyless"); code != ExitUsage || !strings.Contains(ta.errOut.String(), IDTokenEnv) {
		t.Fatalf("no token: exit %d:\n%s", code, ta.errOut)
	}
	ta.env[IDTokenEnv] = f.Issuer.Token(t, "alice@example.com")
	ta.mustRun(t, "approve", art, "--env", "prod", "--keyless")
	if !strings.Contains(ta.out.String(), "subject alice@example.com") {
		t.Fatalf("approve output does not name the identity:\n%s", ta.out)
	}
	delete(ta.env, IDTokenEnv)
	ta.mustRun(t, "approve", art, "--env", "prod", "--key", filepath.Join(dir, "alice-laptop.key"))
	if code, out := gate(); code != ExitRejected || !strings.Contains(out, "1 of 2 required approvals") {
		t.Fatalf("two approvals by one person: exit %d, want %d with 1 of 2:\n%s", code, ExitRejected, out)
	}
	// A second person, through GitHub Actions' token request.
	ta.env[GitHubTokenURLEnv] = f.Issuer.GitHubRequestURL
	ta.env[GitHubTokenEnv] = f.Issuer.GitHubRequestToken
	ta.mustRun(t, "approve", art, "--env", "prod", "--keyless")
	if !strings.Contains(ta.out.String(), "subject ci@example.com") {
		t.Fatalf("approve output:\n%s", ta.out)
	}
	if code, out := gate(); code != ExitOK || !strings.Contains(out, "ALLOW") {
		t.Fatalf("approvals by two people: exit %d, want 0:\n%s", code, out)
	}

	// hallmark attest signs any predicate keylessly too; verify names the identity.
	pred := writeFile(t, filepath.Join(dir, "pred.json"), `{"note":"keyless"}`)
	out := filepath.Join(dir, "note.bundle.json")
	ta.mustRun(t, "attest", "--keyless", "--predicate-type", "https://example.com/note/v1", "--predicate", pred, "--out", out, art)
	ta.mustRun(t, "verify", "--trust", trustFile, "--bundle", out, art)
	if !strings.Contains(ta.out.String(), "identity:ci") || !strings.Contains(ta.out.String(), "subject ci@example.com") {
		t.Fatalf("verify of the keyless bundle:\n%s", ta.out)
	}
	if code := ta.run("attest", "--keyless", "--key", filepath.Join(dir, "carol.key"), "--predicate-type", "https://example.com/note/v1", "--predicate", pred, art); code != ExitUsage {
		t.Fatalf("--keyless with --key: exit %d", code)
	}
}

// TestGateNpmTarballBySHA512 names the npm package by its tarball, hashed
// with SHA-512 as npm provenance names it (gate --digest sha512). The
// tarball is fetched from the npm registry; the test is skipped when the
// registry cannot be reached.
func TestGateNpmTarballBySHA512(t *testing.T) {
	tgz := filepath.Join(t.TempDir(), "sigstore-1.3.0.tgz")
	fetchNpmTarball(t, "https://registry.npmjs.org/sigstore/-/sigstore-1.3.0.tgz", tgz)
	ta := newTestApp(t)
	dir := t.TempDir()
	ta.mustRun(t, "keygen", filepath.Join(dir, "gate"))
	trustFile := writeFile(t, filepath.Join(dir, "trust.yaml"), `version: 1
keys:
  - {name: gate, publicKey: gate.pub, roles: [gate]}
identities:
  - name: sigstore-js-release
    issuer: https://token.actions.githubusercontent.com
    subject: https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main
    roles: [builder]
`)
	preset := writeFile(t, filepath.Join(dir, "preset.yaml"), "version: 1\nenvironments:\n  prod:\n    rules: [slsa_l2, identity]\n    identity: {repositories: [https://github.com/sigstore/sigstore-js]}\n")
	args := []string{"gate", tgz, "--env", "prod", "--trust", trustFile, "--key", filepath.Join(dir, "gate.key"), "--policy", preset,
		"--bundle", filepath.Join(publicGood, "npm-sigstore-1.3.0.provenance.json"), "--trusted-root", filepath.Join(publicGood, "trusted_root.json")}
	if code := ta.run(append(args, "--digest", "sha512")...); code != ExitOK || !strings.Contains(ta.out.String(), "ALLOW  "+sigstore130) {
		t.Fatalf("tarball by sha512: exit %d:\n%s%s", code, ta.out, ta.errOut)
	}
	// By SHA-256 the file is another name, which the provenance does not cover.
	if code := ta.run(args...); code != ExitRejected || !strings.Contains(ta.out.String(), "not about this artifact") {
		t.Fatalf("tarball by sha256: exit %d:\n%s%s", code, ta.out, ta.errOut)
	}
}

func fetchNpmTarball(t *testing.T, url, path string) {
	t.Helper()
	client := &http.Client{Timeout: 20 * time.Second}
	resp, err := client.Get(url)
	if err == nil && resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		err = fmt.Errorf("%s", resp.Status)
	}
	if err != nil {
		t.Skipf("npm registry not reachable: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 10<<20))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyKeylessWithTrustFile: hallmark verify checks a real public-good
// npm provenance bundle against a trust file's identities and names the
// certificate's identity; a trust file without a matching identity fails.
func TestVerifyKeylessWithTrustFile(t *testing.T) {
	ta := newTestApp(t)
	dir := t.TempDir()
	good := writeFile(t, filepath.Join(dir, "trust.yaml"), "version: 1\nidentities:\n  - name: sigstore-js\n    issuer: https://token.actions.githubusercontent.com\n    subjectRegexp: https://github\\.com/sigstore/sigstore-js/.*\n    roles: [builder]\n")
	other := writeFile(t, filepath.Join(dir, "other.yaml"), "version: 1\nidentities:\n  - name: other\n    issuer: https://token.actions.githubusercontent.com\n    subjectRegexp: https://github\\.com/example/.*\n    roles: [builder]\n")
	bundle := filepath.Join(publicGood, "npm-sigstore-2.0.0.provenance.json")
	root := filepath.Join(publicGood, "trusted_root.json")
	ta.mustRun(t, "verify", "--trust", good, "--bundle", bundle, "--trusted-root", root, sigstore200)
	if out := ta.out.String(); !strings.Contains(out, "identity:sigstore-js") || !strings.Contains(out, "repository https://github.com/sigstore/sigstore-js") {
		t.Fatalf("verify output:\n%s", out)
	}
	if code := ta.run("verify", "--trust", good, "--bundle", bundle, "--trusted-root", root, sigstore130); code == ExitOK {
		t.Fatal("verified a subject the statement does not name")
	}
	if code := ta.run("verify", "--trust", other, "--bundle", bundle, "--trusted-root", root, sigstore200); code == ExitOK || !strings.Contains(ta.errOut.String(), "matches no trusted identity") {
		t.Fatalf("other identity: exit %d:\n%s", code, ta.errOut)
	}
	if code := ta.run("verify", "--trust", good, "--bundle", bundle, sigstore200); code == ExitOK || !strings.Contains(ta.errOut.String(), "--trusted-root") {
		t.Fatalf("no trusted root: exit %d:\n%s", code, ta.errOut)
	}
}

// TestGateHostedBuilderLevel: a trust file may declare a keyless builder
// identity a hosted builder at an SLSA Build level; at 3 its provenance
// meets slsa_l3 without Hallmark's sandbox fields (as slsa-verifier trusts
// the SLSA generator's reusable workflows), below 3 it does not. (The
// bundle is the real npm provenance; declaring its workflow level 3 only
// exercises the declaration.)
func TestGateHostedBuilderLevel(t *testing.T) {
	ta := newTestApp(t)
	dir := t.TempDir()
	ta.mustRun(t, "keygen", filepath.Join(dir, "gate"))
	preset := writeFile(t, filepath.Join(dir, "preset.yaml"), "version: 1\nenvironments:\n  prod:\n    rules: [slsa_l3]\n    slsa: {builders: [\"https://github.com/actions/runner/github-hosted\"]}\n")
	for _, tc := range []struct {
		level string
		want  int
		out   string
	}{
		{"3", ExitOK, "SLSA_BUILD_LEVEL_3"},
		{"2", ExitRejected, "slsa_l3.isolation_not_recorded"},
	} {
		trustFile := writeFile(t, filepath.Join(dir, "trust"+tc.level+".yaml"), `version: 1
keys:
  - {name: gate, publicKey: gate.pub, roles: [gate]}
identities:
  - name: sigstore-js-release
    issuer: https://token.actions.githubusercontent.com
    subject: https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main
    runnerEnvironment: github-hosted
    roles: [builder]
    hostedBuilder: {slsaBuildLevel: `+tc.level+`}
`)
		code := ta.run("gate", sigstore200, "--env", "prod", "--trust", trustFile, "--key", filepath.Join(dir, "gate.key"), "--policy", preset,
			"--bundle", filepath.Join(publicGood, "npm-sigstore-2.0.0.provenance.json"), "--trusted-root", filepath.Join(publicGood, "trusted_root.json"))
		if out := ta.out.String() + ta.errOut.String(); code != tc.want || !strings.Contains(out, tc.out) {
			t.Errorf("hosted builder level %s: exit %d, want %d with %s:\n%s", tc.level, code, tc.want, tc.out, out)
		}
	}
}

// TestGateCosignKeylessProvenance: the real cosign signs SLSA v0.2
// provenance keylessly (cosign attest-blob --new-bundle-format, with an
// OIDC token, through the real Fulcio, timestamped by timestamp-server; not
// logged: cosign 2.x logs DSSE as a dsse entry, which rekor-tiles v2.3.0
// refuses; docs/tlog.md "DSSE entries", TestCosignKeylessLogsToHostedLog) and
// the gate counts it when the trust file names the
// identity, under the built-in source and identity rules.
func TestGateCosignKeylessProvenance(t *testing.T) {
	cosign := tooltest.Find(t, "cosign")
	svc, f := tlogtest.StartKeyless(t)
	ta := newTestApp(t)
	dir := t.TempDir()
	art := writeFile(t, filepath.Join(dir, "app.tgz"), "release tarball")
	pred := writeFile(t, filepath.Join(dir, "prov.json"), `{
  "buildType": "https://example.com/ci/v1",
  "builder": {"id": "https://ci.example.com/builder"},
  "invocation": {"configSource": {"uri": "git+https://git.example.com/acme/app@refs/tags/v1.0.0", "digest": {"sha1": "0123456789abcdef0123456789abcdef01234567"}, "entryPoint": "release.yml"}}
}`)
	validFor := `{"start": "2020-01-01T00:00:00Z"}`
	sc := writeFile(t, filepath.Join(dir, "signing_config.json"), `{
  "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
  "caUrls": [{"url": "`+f.URL+`", "majorApiVersion": 1, "validFor": `+validFor+`, "operator": "test"}],
  "rekorTlogUrls": [],
  "tsaUrls": [{"url": "`+svc.TSA.URL+`", "majorApiVersion": 1, "validFor": `+validFor+`, "operator": "test"}],
  "rekorTlogConfig": {"selector": "ANY"},
  "tsaConfig": {"selector": "ANY"}
}`)
	bundle := filepath.Join(dir, "app.tgz.sigstore.json")
	cmd := exec.Command(cosign, "attest-blob", "--new-bundle-format", "--signing-config", sc, "--trusted-root", svc.RootPath,
		"--identity-token", f.Issuer.Token(t, "release@example.com"), "--insecure-skip-verify", "--tlog-upload=false",
		"--type", "slsaprovenance", "--predicate", pred, "--bundle", bundle, "--yes", art)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SIGSTORE_NO_CACHE=1", "TUF_ROOT="+t.TempDir(), "HOME="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cosign attest-blob: %v\n%s", err, out)
	}

	ta.mustRun(t, "keygen", filepath.Join(dir, "gate"))
	trustFile := writeFile(t, filepath.Join(dir, "trust.yaml"), `version: 1
keys:
  - {name: gate, publicKey: gate.pub, roles: [gate]}
identities:
  - name: release
    issuer: `+f.Issuer.URL+`
    subject: release@example.com
    roles: [builder]
`)
	preset := writeFile(t, filepath.Join(dir, "preset.yaml"), `version: 1
environments:
  prod:
    rules: [slsa_l2, source]
    source: {repositories: [https://git.example.com/acme/app], refs: ["refs/tags/v*"]}
`)
	code := ta.run("gate", art, "--env", "prod", "--trust", trustFile, "--key", filepath.Join(dir, "gate.key"), "--policy", preset,
		"--bundle", bundle, "--trusted-root", svc.RootPath, "--tlog-threshold", "0", "--dump-input", filepath.Join(dir, "input.json"))
	if out := ta.out.String() + ta.errOut.String(); code != ExitOK || !strings.Contains(out, "ALLOW") {
		t.Fatalf("cosign keyless provenance: exit %d, want 0:\n%s", code, out)
	}
	in := mustRead(t, filepath.Join(dir, "input.json"))
	for _, want := range []string{`"keyId":"identity:release"`, `"subject":"release@example.com"`, `"repository":"https://git.example.com/acme/app"`, `"workflow":"release.yml"`} {
		if !strings.Contains(strings.ReplaceAll(in, " ", ""), want) {
			t.Errorf("policy input lacks %s:\n%s", want, in)
		}
	}
	// Another person's identity in the trust file: the bundle is ignored, naming who signed it.
	otherTrust := writeFile(t, filepath.Join(dir, "other.yaml"), strings.Replace(mustRead(t, trustFile), "subject: release@example.com", "subject: someone@example.com", 1))
	code = ta.run("gate", art, "--env", "prod", "--trust", otherTrust, "--key", filepath.Join(dir, "gate.key"), "--policy", preset,
		"--bundle", bundle, "--trusted-root", svc.RootPath, "--tlog-threshold", "0")
	if out := ta.out.String() + ta.errOut.String(); code != ExitRejected || !strings.Contains(out, "subject release@example.com") {
		t.Fatalf("untrusted identity: exit %d, want %d naming the signer:\n%s", code, ExitRejected, out)
	}
}
