package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/oci/ocitest"
	"github.com/hallmark-dev/hallmark/tlog/tlogtest"

	"github.com/hallmark-dev/hallmark/internal/tooltest"
)

// TestCosignInterop checks evidence in the registry both ways with the real
// cosign: cosign finds (tree) and verifies (verify-attestation
// --new-bundle-format, against the trusted root of a real log and TSA)
// the logged attestation `hallmark push --oci` attached to an image, and
// Hallmark lists the attestation `cosign attest --new-bundle-format`
// attached and counts it at the gate once cosign's key is trusted.
func TestCosignInterop(t *testing.T) {
	cosign := tooltest.Find(t, "cosign")
	s := tlogtest.Start(t)
	ta := newTestApp(t)
	dir := t.TempDir()
	reg := ocitest.NewRegistry(t)
	dg := reg.Push(t, "team/app:v1", testImage(t))
	host := reg.PlainHost
	ref := host + "/team/app:v1"
	pinned := host + "/team/app@" + dg
	flags := []string{"--insecure-registry", host}
	run := func(args ...string) { t.Helper(); ta.mustRun(t, append(flags, args...)...) }
	cosignRun := func(t *testing.T, wantOK bool, args ...string) string {
		t.Helper()
		cmd := exec.Command(cosign, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "SIGSTORE_NO_CACHE=1", "TUF_ROOT="+t.TempDir(), "COSIGN_PASSWORD=cosign-pass",
			"HOME="+dir, "DOCKER_CONFIG="+dir)
		out, err := cmd.CombinedOutput()
		if wantOK && err != nil {
			t.Fatalf("cosign %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		if !wantOK && err == nil {
			t.Fatalf("cosign %s succeeded, want failure:\n%s", strings.Join(args, " "), out)
		}
		return string(out)
	}
	registryFlags := []string{"--allow-insecure-registry", "--allow-http-registry"}

	// Hallmark attests the image, logged and timestamped, and attaches it.
	key := filepath.Join(dir, "hallmark")
	ta.mustRun(t, "keygen", key)
	pred := writeFile(t, filepath.Join(dir, "pred.json"), `{"note":"from hallmark"}`)
	ta.env[TlogEnv] = s.Log.URL
	ta.env[TSAEnv] = s.TSA.URL
	ta.env[TrustedRootEnv] = s.RootPath
	run("attest", "--key", key+".key", "--predicate-type", "https://example.com/p/v1", "--predicate", pred, "--out", filepath.Join(dir, "hm.json"), ref)
	run("push", "--oci", ref)

	t.Run("cosign reads hallmark", func(t *testing.T) {
		run("evidence", "ls", "--registry", ref, "--format", "json")
		var refs []struct{ Digest string }
		if err := json.Unmarshal(ta.out.Bytes(), &refs); err != nil || len(refs) != 1 {
			t.Fatalf("evidence ls --registry: %v, %d referrers, want 1:\n%s", err, len(refs), ta.out)
		}
		out := cosignRun(t, true, append([]string{"tree", "--experimental-oci11"}, append(registryFlags, pinned)...)...)
		if !strings.Contains(out, "via OCI referrer: "+host+"/team/app@"+refs[0].Digest) {
			t.Errorf("cosign tree does not list the Hallmark bundle %s:\n%s", refs[0].Digest, out)
		}
		verify := func(wantOK bool, pub, typ string) string {
			return cosignRun(t, wantOK, append([]string{"verify-attestation", "--new-bundle-format", "--use-signed-timestamps",
				"--trusted-root", s.RootPath, "--key", pub, "--type", typ}, append(registryFlags, pinned)...)...)
		}
		verify(true, key+".pub", "https://example.com/p/v1")
		// Another key does not verify it.
		ta.mustRun(t, "keygen", filepath.Join(dir, "other"))
		verify(false, filepath.Join(dir, "other.pub"), "https://example.com/p/v1")
	})

	t.Run("cosign reads hallmark unlogged", func(t *testing.T) {
		// Signed with --tlog off: cosign verifies it only when told to
		// ignore the log, with a trusted root that names no service.
		plain := host + "/team/plain@" + reg.PushImage(t, "team/plain:v1")
		run("attest", "--tlog", "off", "--tsa", "off", "--trusted-root", "off", "--key", key+".key",
			"--predicate-type", "https://example.com/p/v1", "--predicate", pred, "--out", filepath.Join(dir, "plain.json"), plain)
		run("push", "--oci", plain)
		emptyRoot := writeFile(t, filepath.Join(dir, "empty_root.json"), `{"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1"}`)
		verify := func(wantOK bool, extra ...string) {
			cosignRun(t, wantOK, append(append([]string{"verify-attestation", "--new-bundle-format", "--trusted-root", emptyRoot,
				"--key", key + ".pub", "--type", "https://example.com/p/v1"}, extra...), append(registryFlags, plain)...)...)
		}
		verify(true, "--insecure-ignore-tlog")
		verify(false)
	})

	t.Run("hallmark reads cosign", func(t *testing.T) {
		cosignRun(t, true, "generate-key-pair")
		prov := writeFile(t, filepath.Join(dir, "prov.json"), `{
  "buildDefinition": {"buildType": "https://example.com/cosign-build/v1", "externalParameters": {"repository": "https://example.com/app"}},
  "runDetails": {"builder": {"id": "https://example.com/builder"}}
}`)
		cosignRun(t, true, append([]string{"attest", "--new-bundle-format", "--key", "cosign.key", "--type", "slsaprovenance1",
			"--predicate", prov, "--tlog-upload=false", "--yes"}, append(registryFlags, pinned)...)...)
		run("evidence", "ls", "--registry", ref)
		if !strings.Contains(ta.out.String(), "https://slsa.dev/provenance/v1") {
			t.Fatalf("evidence ls --registry does not list cosign's attestation:\n%s%s", ta.out, ta.errOut)
		}
		ta.mustRun(t, "keygen", filepath.Join(dir, "gate"))
		pol := writePolicyDir(t, map[string]string{"policy.rego": `package hallmark.policy

decision := {"allow": count(input.evidence.provenance) > 0, "violations": [{"ruleId": "provenance", "message": "no provenance"} | count(input.evidence.provenance) == 0]}
`})
		gate := func(trusted string) (int, string) {
			trustFile := writeFile(t, filepath.Join(dir, "trust.yaml"), `version: 1
keys:
  - {name: builder, publicKey: `+trusted+`, roles: [builder]}
  - {name: gate, publicKey: gate.pub, roles: [gate]}
`)
			ta.env[StoreEnv] = filepath.Join(t.TempDir(), "store") // only the registry holds evidence
			code := ta.run(append(flags, "gate", ref, "--registry-evidence", "--env", "prod", "--trust", trustFile,
				"--key", filepath.Join(dir, "gate.key"), "--policy", pol)...)
			return code, ta.out.String() + ta.errOut.String()
		}
		// Against the trusted root the gate demands a log entry, which
		// cosign's unlogged attestation lacks.
		if code, out := gate("cosign.pub"); code != ExitRejected || !strings.Contains(out, "log entries") {
			t.Errorf("cosign's unlogged provenance against a trusted root: exit %d, want %d:\n%s", code, ExitRejected, out)
		}
		delete(ta.env, TrustedRootEnv)
		if code, out := gate("hallmark.pub"); code != ExitRejected {
			t.Errorf("cosign's provenance by an untrusted key: exit %d, want %d:\n%s", code, ExitRejected, out)
		}
		if code, out := gate("cosign.pub"); code != ExitOK || !strings.Contains(out, "ALLOW") {
			t.Errorf("cosign's provenance by a trusted key: exit %d, want 0:\n%s", code, out)
		}
	})
}
