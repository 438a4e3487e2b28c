package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/oci/ocitest"
	"github.com/hallmark-dev/hallmark/store"
)

// testImage is a small image of real Debian package metadata (see
// sbom/testdata/image).
func testImage(t *testing.T) v1.Image {
	t.Helper()
	read := func(n string) []byte {
		b, err := os.ReadFile(filepath.Join("..", "..", "sbom", "testdata", "image", n))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	return ocitest.Image(t, v1.Config{Env: []string{"PATH=/usr/bin"}},
		ocitest.Layer{CreatedBy: "ADD rootfs /", Files: map[string][]byte{"etc/os-release": read("os-release"), "var/lib/dpkg/status": read("status.base")}},
		ocitest.Layer{CreatedBy: "RUN apt-get install -y openssl", Files: map[string][]byte{"var/lib/dpkg/status": read("status.ssl")}},
	)
}

// storedSubjects lists the subjects of the stored evidence of one type.
func storedSubjects(t *testing.T, ta *testApp, predicateType string) []attest.Subject {
	t.Helper()
	ta.mustRun(t, "evidence", "ls", "--type", predicateType, "--format", "json")
	var recs []store.Record
	if err := json.Unmarshal(ta.out.Bytes(), &recs); err != nil {
		t.Fatalf("%v: %s", err, ta.out)
	}
	var out []attest.Subject
	for _, r := range recs {
		out = append(out, r.Subjects...)
	}
	return out
}

// An image in a registry, the same image in an OCI layout and its digest
// reference are one subject: the manifest digest, named by the repository.
func TestImageArtifactsAreSubjects(t *testing.T) {
	ta := newTestApp(t)
	dir := t.TempDir()
	reg := ocitest.NewRegistry(t)
	img := testImage(t)
	dg := reg.Push(t, "team/app:v1", img)
	ca := writeFile(t, filepath.Join(dir, "ca.pem"), string(reg.CertPEM()))
	layoutDir := filepath.Join(dir, "layout")
	if got := ocitest.WriteLayout(t, layoutDir, img, reg.Host+"/team/app:v1"); got != dg {
		t.Fatalf("layout digest %s, registry digest %s", got, dg)
	}
	key := filepath.Join(dir, "signer")
	ta.mustRun(t, "keygen", key)
	ref := reg.Host + "/team/app:v1"
	repo := reg.Host + "/team/app"

	// sbom of the registry image: the OS packages, signed about the image.
	sbomOut := filepath.Join(dir, "app.cdx.json")
	ta.mustRun(t, "--registry-ca", ca, "sbom", ref, "--key", key+".key", "--out", sbomOut)
	doc := string(ta.readFile(t, sbomOut))
	for _, want := range []string{`"pkg:deb/debian/openssl@3.0.19-1~deb12u2`, `"hallmark:layer"`, `"type": "container"`} {
		if !strings.Contains(doc, want) {
			t.Errorf("SBOM lacks %s", want)
		}
	}
	want := attest.Subject{Name: repo, Digest: map[string]string{"sha256": strings.TrimPrefix(dg, "sha256:")}}
	if got := storedSubjects(t, ta, "https://cyclonedx.org/bom"); len(got) != 1 || got[0].Name != want.Name || got[0].Digest["sha256"] != want.Digest["sha256"] {
		t.Errorf("SBOM subjects %+v, want %+v", got, want)
	}

	// attest the layout; verify against the registry image by digest.
	pred := writeFile(t, filepath.Join(dir, "pred.json"), `{"note":"image"}`)
	bundle := filepath.Join(dir, "b.json")
	ta.mustRun(t, "attest", "--key", key+".key", "--predicate-type", "https://example.com/p/v1", "--predicate", pred, "--out", bundle, "oci:"+layoutDir)
	ta.mustRun(t, "--registry-ca", ca, "verify", "--key", key+".pub", "--bundle", bundle, repo+"@"+dg)
	if got := storedSubjects(t, ta, "https://example.com/p/v1"); len(got) != 1 || got[0].Name != repo || "sha256:"+got[0].Digest["sha256"] != dg {
		t.Errorf("attested layout subjects %+v, want %s named %s", got, dg, repo)
	}

	// approve by tag resolves to the same digest.
	ta.mustRun(t, "--registry-ca", ca, "approve", ref, "--env", "prod", "--key", key+".key")
	if !strings.Contains(ta.out.String(), dg) {
		t.Errorf("approve: %s", ta.out)
	}

	// evidence ls IMAGE lists the stored evidence about its digest, named any way.
	ta.mustRun(t, "evidence", "ls", "oci:"+layoutDir, "--format", "json")
	var recs []struct {
		PredicateType string `json:"predicateType"`
	}
	if err := json.Unmarshal(ta.out.Bytes(), &recs); err != nil || len(recs) != 3 {
		t.Errorf("evidence ls of the image: %v, %d records, want SBOM, attestation and approval:\n%s", err, len(recs), ta.out)
	}

	// Another image does not verify.
	other := reg.PushImage(t, "team/other:v1")
	if code := ta.run("--registry-ca", ca, "verify", "--key", key+".pub", "--bundle", bundle, reg.Host+"/team/other@"+other); code != ExitRejected {
		t.Errorf("verify of another image: exit %d, want %d (%s)", code, ExitRejected, ta.errOut)
	}
}

func TestImageRegistryAccessRules(t *testing.T) {
	ta := newTestApp(t)
	dir := t.TempDir()
	reg := ocitest.NewRegistry(t)
	dg := reg.Push(t, "app:v1", testImage(t))
	pred := writeFile(t, filepath.Join(dir, "pred.json"), `{}`)
	key := filepath.Join(dir, "signer")
	ta.mustRun(t, "keygen", key)
	attest := func(ref string, flags ...string) int {
		args := append(flags, "attest", "--key", key+".key", "--predicate-type", "https://example.com/p/v1", "--predicate", pred, "--out", filepath.Join(dir, "b.json"), ref)
		return ta.run(args...)
	}
	// A registry whose CA is not trusted: unreachable, exit 4.
	if code := attest(reg.Host + "/app:v1"); code != ExitEnvironment || !strings.Contains(ta.errOut.String(), "registry unreachable") {
		t.Errorf("untrusted CA: exit %d, want %d: %s", code, ExitEnvironment, ta.errOut)
	}
	// Plain HTTP only for a registry listed with --insecure-registry.
	if code := attest(reg.PlainHost + "/app:v1"); code != ExitEnvironment ||
		!strings.Contains(ta.errOut.String(), "pass --insecure-registry "+reg.PlainHost+")") {
		t.Errorf("plain HTTP registry not listed: exit %d, want %d and the flag that lists it: %s", code, ExitEnvironment, ta.errOut)
	}
	if code := attest(reg.PlainHost+"/app:v1", "--insecure-registry", reg.PlainHost); code != 0 {
		t.Fatalf("plain HTTP registry listed: exit %d: %s", code, ta.errOut)
	}
	// A registry that is gone fails closed with the reason.
	reg.Close()
	if code := attest(reg.PlainHost+"/app:v1", "--insecure-registry", reg.PlainHost); code != ExitEnvironment || !strings.Contains(ta.errOut.String(), "unreachable") {
		t.Errorf("registry down: exit %d, want %d: %s", code, ExitEnvironment, ta.errOut)
	}
	// A missing path that is not an image reference says how to name one.
	if code := ta.run("attest", "--key", key+".key", "--predicate-type", "x:y", "--predicate", pred, "build/app"); code != ExitBadInput || !strings.Contains(ta.errOut.String(), "oci:DIR") {
		t.Errorf("missing file: exit %d: %s", code, ta.errOut)
	}
	_ = dg
}

// Evidence travels with the image: push --oci attaches the stored bundles
// about it, evidence ls --registry lists them, evidence fetch downloads
// them, and they verify against the image.
func TestImageEvidenceInRegistry(t *testing.T) {
	for _, kind := range []string{"ggcr-registry", "docker-registry"} {
		t.Run(kind, func(t *testing.T) {
			ta := newTestApp(t)
			dir := t.TempDir()
			var host string
			var flags []string
			img := testImage(t)
			var dg string
			if kind == "ggcr-registry" {
				reg := ocitest.NewRegistry(t)
				host = reg.Host
				dg = reg.Push(t, "team/app:v1", img)
				flags = []string{"--registry-ca", writeFile(t, filepath.Join(dir, "ca.pem"), string(reg.CertPEM()))}
			} else {
				host = ocitest.StartDistribution(t)
				dg = ocitest.PushTo(t, host+"/team/app:v1", img)
				flags = []string{"--insecure-registry", host}
			}
			ref := host + "/team/app:v1"
			run := func(args ...string) { t.Helper(); ta.mustRun(t, append(flags, args...)...) }
			key := filepath.Join(dir, "signer")
			ta.mustRun(t, "keygen", key)
			run("sbom", ref, "--key", key+".key", "--out", filepath.Join(dir, "sbom.json"))
			run("approve", ref, "--env", "prod", "--key", key+".key")
			// Nothing about another artifact is attached.
			ta.mustRun(t, "attest", "--key", key+".key", "--predicate-type", "https://example.com/p/v1", "--predicate", writeFile(t, filepath.Join(dir, "p.json"), `{}`), writeFile(t, filepath.Join(dir, "f.bin"), "x"))

			run("push", "--oci", ref)
			if n := strings.Count(ta.out.String(), "\n"); n != 2 {
				t.Fatalf("push attached %d bundles, want 2:\n%s", n, ta.out)
			}
			run("evidence", "ls", "--registry", ref)
			for _, want := range []string{"https://cyclonedx.org/bom", "https://hallmark.dev/attestation/approval/v1"} {
				if !strings.Contains(ta.out.String(), want) {
					t.Errorf("evidence ls --registry lacks %s:\n%s", want, ta.out)
				}
			}
			out := filepath.Join(dir, "fetched")
			run("evidence", "fetch", ref, "--out", out)
			files, _ := filepath.Glob(filepath.Join(out, "*.bundle.json"))
			if len(files) != 2 {
				t.Fatalf("fetched %d bundles", len(files))
			}
			for _, f := range files {
				run("verify", "--key", key+".pub", "--bundle", f, host+"/team/app@"+dg)
			}
			// A bundle about something else is not attached.
			if code := ta.run(append(flags, "push", "--oci", ref, filepath.Join(dir, "f.bin"))...); code != ExitBadInput {
				t.Errorf("push of a non-bundle: exit %d: %s", code, ta.errOut)
			}
		})
	}
}

// gate --registry-evidence counts the bundles attached to the image, after
// verifying them like stored ones; an unreachable registry denies.
func TestGateReadsRegistryEvidence(t *testing.T) {
	ta := newTestApp(t)
	dir := t.TempDir()
	reg := ocitest.NewRegistry(t)
	reg.Push(t, "team/app:v1", testImage(t))
	ca := writeFile(t, filepath.Join(dir, "ca.pem"), string(reg.CertPEM()))
	ref := reg.Host + "/team/app:v1"
	for _, n := range []string{"alice", "eve", "gate"} {
		ta.mustRun(t, "keygen", filepath.Join(dir, n))
	}
	trustFile := writeFile(t, filepath.Join(dir, "trust.yaml"), `version: 1
keys:
  - {name: alice, publicKey: alice.pub, roles: [approver]}
  - {name: gate, publicKey: gate.pub, roles: [gate]}
`)
	pol := writePolicyDir(t, map[string]string{"policy.rego": `package hallmark.policy

decision := {"allow": count(input.evidence.approvals) > 0, "violations": [{"ruleId": "approval", "message": "no approval"} | count(input.evidence.approvals) == 0]}
`})
	// eve (untrusted) approves and attaches; the gate ignores it.
	ta.mustRun(t, "--registry-ca", ca, "approve", ref, "--env", "prod", "--key", filepath.Join(dir, "eve.key"))
	ta.mustRun(t, "--registry-ca", ca, "push", "--oci", ref)
	gateRun := func(extra ...string) (int, string) {
		ta.env[StoreEnv] = filepath.Join(t.TempDir(), "store") // only the registry holds evidence
		args := append([]string{"--registry-ca", ca, "gate", ref, "--env", "prod", "--trust", trustFile, "--key", filepath.Join(dir, "gate.key"), "--policy", pol}, extra...)
		code := ta.run(args...)
		return code, ta.out.String() + ta.errOut.String()
	}
	if code, out := gateRun("--registry-evidence"); code != ExitRejected || !strings.Contains(out, "ignored") {
		t.Fatalf("untrusted approval in the registry: exit %d, want %d, ignored:\n%s", code, ExitRejected, out)
	}
	// alice approves in another store and attaches.
	ta.env[StoreEnv] = filepath.Join(t.TempDir(), "store")
	ta.mustRun(t, "--registry-ca", ca, "approve", ref, "--env", "prod", "--key", filepath.Join(dir, "alice.key"))
	ta.mustRun(t, "--registry-ca", ca, "push", "--oci", ref)
	if code, out := gateRun(); code != ExitRejected {
		t.Fatalf("without --registry-evidence: exit %d, want %d:\n%s", code, ExitRejected, out)
	}
	if code, out := gateRun("--registry-evidence"); code != 0 || !strings.Contains(out, "ALLOW") {
		t.Fatalf("approval in the registry: exit %d, want 0:\n%s", code, out)
	}
	// A registry that cannot be reached denies, and says why.
	reg.Close()
	if code, out := gateRun("--registry-evidence"); code != ExitEnvironment || !strings.Contains(out, "unreachable") {
		t.Fatalf("registry down: exit %d, want %d:\n%s", code, ExitEnvironment, out)
	}
}

// scan --vulns of an image matches its OS packages under their OSV
// ecosystem (Debian:12 from the image's os-release): a database without
// Debian advisories never gives the image a clean result.
func TestScanVulnsImage(t *testing.T) {
	ta := newTestApp(t)
	dir := t.TempDir()
	layoutDir := filepath.Join(dir, "layout")
	ocitest.WriteLayout(t, layoutDir, testImage(t), "")
	ta.mustRun(t, "db", "update", "--from", filepath.Join("..", "..", "vuln", "testdata", "osv", "npm"))
	if code := ta.run("scan", "--vulns", "oci:"+layoutDir); code != ExitEnvironment || !strings.Contains(ta.errOut.String(), "Debian") {
		t.Fatalf("image scan against a database without Debian: exit %d, want %d naming Debian:\n%s%s", code, ExitEnvironment, ta.out, ta.errOut)
	}
	ta.mustRun(t, "db", "update", "--from", filepath.Join("..", "..", "vuln", "testdata", "osv", "debian"))
	ta.mustRun(t, "scan", "--vulns", "oci:"+layoutDir, "--format", "json")
}
