package cli

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	ggcrremote "github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/hallmark-dev/hallmark/oci/ocitest"
	"github.com/hallmark-dev/hallmark/vuln"
)

// The gate asked about a two-platform index in a registry counts the
// vulnerability scans of the platform manifests the index lists, and only
// when they cover every platform: a missing platform is named in an
// index.platforms violation, and a scan of a platform manifest the index
// does not list does not count.
func TestGateIndexPlatformCoverage(t *testing.T) {
	amd64 := ocitest.DebianImage(t, v1.Config{}, ocitest.DebianLayer{CreatedBy: "ADD rootfs /", Packages: []string{"base-files", "libc6", "zlib1g"}})
	arm64 := ocitest.WithPlatform(t, ocitest.DebianImage(t, v1.Config{}, ocitest.DebianLayer{CreatedBy: "ADD rootfs /", Packages: []string{"base-files", "tzdata"}}), "linux/arm64")
	// Another arm64 image, in another index: its manifest is not listed by
	// the first.
	otherArm64 := ocitest.WithPlatform(t, ocitest.DebianImage(t, v1.Config{}, ocitest.DebianLayer{CreatedBy: "ADD rootfs /", Packages: []string{"base-files"}}), "linux/arm64")
	reg := ocitest.NewRegistry(t)
	push := func(repoTag string, idx v1.ImageIndex) string {
		ref, err := name.NewTag(reg.PlainHost+"/"+repoTag, name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		if err := ggcrremote.WriteIndex(ref, idx, ggcrremote.WithContext(t.Context())); err != nil {
			t.Fatalf("push %s: %v", ref, err)
		}
		return ref.String()
	}
	idx := ocitest.Index(t, amd64, arm64)
	ref := push("team/multi:v1", idx)
	other := push("team/other:v1", ocitest.Index(t, amd64, otherArm64))
	armDigest, err := arm64.Digest()
	if err != nil {
		t.Fatal(err)
	}

	ta := newTestApp(t)
	dir := t.TempDir()
	flags := []string{"--insecure-registry", reg.PlainHost}
	for _, n := range []string{"scanner", "gate", "alice"} {
		ta.mustRun(t, "keygen", filepath.Join(dir, n))
	}
	trustFile := writeFile(t, filepath.Join(dir, "trust.yaml"), `version: 1
keys:
  - {name: scanner, publicKey: scanner.pub, roles: [scanner]}
  - {name: alice, publicKey: alice.pub, roles: [approver]}
  - {name: gate, publicKey: gate.pub, roles: [gate]}
`)
	pol := writePolicyDir(t, map[string]string{"policy.rego": `package hallmark.policy

decision := {"allow": count(input.evidence.vulns) > 0, "violations": [{"ruleId": "vulns", "message": "no vulnerability scan"} | count(input.evidence.vulns) == 0]}
`})
	ta.mustRun(t, "db", "update", "--from", filepath.Join("..", "..", "vuln", "testdata", "osv", "debian"))
	scan := func(image, platform string, extra ...string) {
		t.Helper()
		ta.mustRun(t, append(append(flags, "scan", "--vulns", image, "--platform", platform, "--key", filepath.Join(dir, "scanner.key")), extra...)...)
	}
	gateRun := func(extra ...string) (int, string) {
		ta.out.Reset()
		ta.errOut.Reset()
		code := ta.run(append(append(flags, "gate", ref, "--env", "prod", "--trust", trustFile, "--key", filepath.Join(dir, "gate.key"), "--policy", pol), extra...)...)
		return code, ta.out.String() + ta.errOut.String()
	}

	// One platform scanned: the scan is about that platform's manifest, and
	// the gate denies naming the other one.
	scan(ref, "linux/amd64")
	amdDigest, err := amd64.Digest()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range storedSubjects(t, ta, vuln.PredicateType) {
		got = append(got, s.Digest["sha256"])
	}
	if !slices.Equal(got, []string{amdDigest.Hex}) {
		t.Fatalf("scan --platform linux/amd64 of the index: subjects %v, want the amd64 manifest %s", got, amdDigest.Hex)
	}
	code, out := gateRun()
	if code != ExitRejected || !strings.Contains(out, "index.platforms") || !strings.Contains(out, "linux/arm64 ("+armDigest.String()+")") {
		t.Fatalf("only amd64 scanned: exit %d, want %d naming linux/arm64 %s:\n%s", code, ExitRejected, armDigest, out)
	}
	if strings.Contains(out, "no vulnerability scan") {
		t.Errorf("the amd64 scan did not reach the policy:\n%s", out)
	}

	// An arm64 scan of a manifest this index does not list does not count.
	otherBundle := filepath.Join(dir, "other-arm64.json")
	scan(other, "linux/arm64", "--bundle-out", otherBundle)
	code, out = gateRun("--bundle", otherBundle)
	if code != ExitRejected || !strings.Contains(out, "linux/arm64 ("+armDigest.String()+")") || !strings.Contains(out, "not about this artifact") {
		t.Fatalf("arm64 scan of another index's manifest: exit %d, want %d, still naming linux/arm64 and ignoring the bundle:\n%s", code, ExitRejected, out)
	}

	// An approval of one platform manifest is not an approval of the index.
	ta.mustRun(t, append(flags, "approve", strings.Split(ref, ":v1")[0]+"@"+amdDigest.String(), "--env", "prod", "--key", filepath.Join(dir, "alice.key"))...)

	// Every platform scanned: allowed.
	scan(ref, "linux/arm64")
	code, out = gateRun()
	if code != ExitOK || !strings.Contains(out, "ALLOW") {
		t.Fatalf("every platform scanned: exit %d, want 0:\n%s", code, out)
	}
	if !strings.Contains(out, "approvals must name the index") {
		t.Errorf("the approval of the amd64 manifest is not listed as ignored for the index:\n%s", out)
	}

	// The scans attached to the platform manifests in the registry count
	// as well (--registry-evidence reads the referrers of each one).
	repo := strings.Split(ref, ":v1")[0]
	ta.mustRun(t, append(flags, "push", "--oci", repo+"@"+amdDigest.String())...)
	ta.mustRun(t, append(flags, "push", "--oci", repo+"@"+armDigest.String())...)
	ta.env[StoreEnv] = filepath.Join(t.TempDir(), "store") // only the registry holds evidence
	if code, out := gateRun(); code != ExitRejected {
		t.Fatalf("empty store, without --registry-evidence: exit %d, want %d:\n%s", code, ExitRejected, out)
	}
	if code, out := gateRun("--registry-evidence"); code != ExitOK || !strings.Contains(out, "2 vuln scans") {
		t.Fatalf("platform scans in the registry: exit %d, want 0 counting both:\n%s", code, out)
	}
}
