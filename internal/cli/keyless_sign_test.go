package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/tlog/tlogtest"
)

// TestKeylessSigningCommands signs with an OIDC identity through the real
// Fulcio server, logged and timestamped by the real rekor-tiles and
// timestamp-server, from every signing command that takes --keyless
// besides approve and attest: build's provenance, an SBOM, scan results
// and an image's provenance. Each bundle verifies against the trust file's
// identity and names it; --keyless with --key, and rebuild --keyless
// without --rebuilder-id, are usage errors.
func TestKeylessSigningCommands(t *testing.T) {
	svc, f := tlogtest.StartKeyless(t)
	ta := newTestApp(t)
	dir := t.TempDir()
	trustFile := writeFile(t, filepath.Join(dir, "trust.yaml"), `version: 1
identities:
  - name: ci
    issuer: `+f.Issuer.URL+`
    subject: ci@example.com
    roles: [builder, scanner]
`)
	ta.env["PATH"] = "/usr/bin:/bin"
	ta.env[TlogEnv], ta.env[TSAEnv], ta.env[TrustedRootEnv], ta.env[FulcioEnv] = svc.Log.URL, svc.TSA.URL, svc.RootPath, f.URL
	ta.env[IDTokenEnv] = f.Issuer.Token(t, "ci@example.com")
	src := t.TempDir()
	t.Chdir(src)
	verify := func(what, bundle, subject string) {
		t.Helper()
		ta.mustRun(t, "verify", "--trust", trustFile, "--bundle", bundle, subject)
		if !strings.Contains(ta.out.String(), "identity:ci") || !strings.Contains(ta.out.String(), "subject ci@example.com") {
			t.Errorf("%s: verify does not name the identity:\n%s", what, ta.out)
		}
	}
	signedByCI := func(what string) {
		t.Helper()
		if !strings.Contains(ta.errOut.String(), "subject ci@example.com") || !strings.Contains(ta.errOut.String(), "logged in "+svc.Log.URL) {
			t.Errorf("%s: output does not say it was signed by the identity and logged:\n%s", what, ta.errOut)
		}
	}

	out := filepath.Join(dir, "build")
	ta.mustRun(t, "build", "--keyless", "--out", out, "--output-dir", "dist", "--sandbox", "off", "--", "sh", "-c", "mkdir -p dist && echo app > dist/app")
	signedByCI("build")
	app := filepath.Join(src, "dist", "app")
	verify("build", filepath.Join(out, "provenance.bundle.json"), app)

	sbomBundle := filepath.Join(dir, "sbom.bundle.json")
	ta.mustRun(t, "sbom", app, "--keyless", "--bundle-out", sbomBundle, "--out", filepath.Join(dir, "sbom.json"))
	signedByCI("sbom")
	verify("sbom", sbomBundle, app)

	scanBundle := filepath.Join(dir, "scan.bundle.json")
	ta.mustRun(t, "scan", "--misconfig", src, "--keyless", "--subject", app, "--bundle-out", scanBundle)
	signedByCI("scan")
	verify("scan", scanBundle, app)

	layout := filepath.Join(dir, "layout")
	imgBundle := filepath.Join(dir, "image.bundle.json")
	ta.mustRun(t, "image", "--file", app+"=/app", "--out", "oci:"+layout, "--keyless", "--provenance", imgBundle)
	signedByCI("image")
	verify("image", imgBundle, "oci:"+layout)

	ta.mustRun(t, "keygen", filepath.Join(dir, "k"))
	if code := ta.run("build", "--keyless", "--key", filepath.Join(dir, "k.key"), "--out", out, "--sandbox", "off", "--", "true"); code != ExitUsage {
		t.Errorf("build --keyless --key: exit %d, want %d", code, ExitUsage)
	}
	if code := ta.run("rebuild", "--keyless", "--bundle", filepath.Join(out, "provenance.bundle.json"), "--trust", trustFile); code != ExitUsage || !strings.Contains(ta.errOut.String(), "--rebuilder-id") {
		t.Errorf("rebuild --keyless without --rebuilder-id: exit %d, want %d\n%s", code, ExitUsage, ta.errOut)
	}
}

// TestRebuildKeyless: a rebuilder signs its reproducibility attestation
// with an OIDC identity through the real Fulcio, and the attestation
// verifies against the trust file's identity with the rebuilder role.
func TestRebuildKeyless(t *testing.T) {
	fx := newRebuildFixture(t)
	ta := fx.ta
	bundle := fx.build(t, "p1")
	svc, f := tlogtest.StartKeyless(t)
	ta.env[TlogEnv], ta.env[TSAEnv], ta.env[TrustedRootEnv], ta.env[FulcioEnv] = svc.Log.URL, svc.TSA.URL, svc.RootPath, f.URL
	ta.env[IDTokenEnv] = f.Issuer.Token(t, "rebuilder@example.com")
	trustFile := writeFile(t, filepath.Join(t.TempDir(), "trust.yaml"), `version: 1
identities:
  - name: rebuilder
    issuer: `+f.Issuer.URL+`
    subject: rebuilder@example.com
    roles: [rebuilder]
`)
	t.Chdir(fx.clone)
	rbOut := filepath.Join(fx.out, "rebuild")
	ta.mustRun(t, "rebuild", "--keyless", "--rebuilder-id", "https://ci.example.com/rebuilder", "--bundle", bundle,
		"--builder-key", fx.key("builder")+".pub", "--sandbox", "off", "--out", rbOut)
	if !strings.Contains(ta.errOut.String(), "subject rebuilder@example.com") {
		t.Errorf("rebuild output does not name the identity:\n%s", ta.errOut)
	}
	ta.mustRun(t, "verify", "--trust", trustFile, "--bundle", filepath.Join(rbOut, "rebuild.bundle.json"), filepath.Join(fx.repo, "out.txt"))
	if !strings.Contains(ta.out.String(), "identity:rebuilder") {
		t.Errorf("verify of the keyless rebuild attestation:\n%s", ta.out)
	}
}
