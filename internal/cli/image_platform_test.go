package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/hallmark-dev/hallmark/oci/ocitest"
)

// A multi-platform index of two images of real Debian packages: the amd64
// image has libc6 and zlib1g, the arm64 one only Architecture: all
// packages (tzdata, python3-six), which are the same files on every
// architecture (and no base-files, so no os-release: its purls say
// pkg:deb/linux).
func TestSBOMMultiPlatformIndex(t *testing.T) {
	amd64 := ocitest.DebianImage(t, v1.Config{}, ocitest.DebianLayer{CreatedBy: "ADD rootfs /", Packages: []string{"base-files", "libc6", "zlib1g"}})
	arm64 := ocitest.WithPlatform(t, ocitest.DebianImage(t, v1.Config{}, ocitest.DebianLayer{CreatedBy: "ADD rootfs /", Packages: []string{"tzdata", "python3-six"}}), "linux/arm64")
	idx := ocitest.Index(t, amd64, arm64)
	dir := t.TempDir()
	layoutDir := filepath.Join(dir, "layout")
	indexDigest := ocitest.WriteIndexLayout(t, layoutDir, idx, "registry.example/team/multi:v1")
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	platformDigest := map[string]string{}
	for _, d := range im.Manifests {
		platformDigest[d.Platform.String()] = d.Digest.Hex
	}

	ta := newTestApp(t)
	key := filepath.Join(dir, "scanner")
	ta.mustRun(t, "keygen", key)
	out := filepath.Join(dir, "sboms")
	ta.mustRun(t, "sbom", "oci:"+layoutDir, "--out", out, "--key", key+".key")
	for plat, want := range map[string]struct{ has, hasNot string }{
		"linux-amd64": {"/libc6@", "/tzdata@"},
		"linux-arm64": {"/tzdata@", "/libc6@"},
	} {
		doc := string(ta.readFile(t, filepath.Join(out, plat+".cdx.json")))
		if !strings.Contains(doc, want.has) || strings.Contains(doc, want.hasNot) {
			t.Errorf("%s SBOM: want %s and not %s", plat, want.has, want.hasNot)
		}
		if d := platformDigest[strings.ReplaceAll(plat, "-", "/")]; !strings.Contains(doc, d) {
			t.Errorf("%s SBOM does not name its platform manifest sha256:%s", plat, d)
		}
	}
	// One signed SBOM per platform, each about the platform manifest the
	// index lists (so reachable from the index), named by the repository.
	var got []string
	for _, s := range storedSubjects(t, ta, "https://cyclonedx.org/bom") {
		if s.Name != "registry.example/team/multi" {
			t.Errorf("subject name %q, want the repository", s.Name)
		}
		got = append(got, s.Digest["sha256"])
	}
	slices.Sort(got)
	want := []string{platformDigest["linux/amd64"], platformDigest["linux/arm64"]}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("SBOM subjects %v, want the platform manifests %v (index %s)", got, want, indexDigest)
	}

	// One platform: one document on standard output.
	ta.out.Reset()
	ta.mustRun(t, "sbom", "oci:"+layoutDir, "--platform", "linux/arm64")
	if doc := ta.out.String(); !strings.Contains(doc, "/tzdata@") || strings.Contains(doc, "libc6") {
		t.Errorf("--platform linux/arm64 SBOM is not the arm64 image's:\n%.400s", doc)
	}
	// Several platforms and no --out: told how to choose.
	if code := ta.run("sbom", "oci:"+layoutDir); code != ExitUsage || !strings.Contains(ta.errOut.String(), "--out DIR") {
		t.Errorf("all platforms to standard output: exit %d, want %d naming --out DIR:\n%s", code, ExitUsage, ta.errOut)
	}
	// A platform the index does not have: the ones it has are named.
	if code := ta.run("sbom", "oci:"+layoutDir, "--platform", "linux/s390x"); code != ExitBadInput || !strings.Contains(ta.errOut.String(), "linux/amd64, linux/arm64") {
		t.Errorf("--platform linux/s390x: exit %d, want %d listing the platforms:\n%s", code, ExitBadInput, ta.errOut)
	}
	if _, err := os.Stat(filepath.Join(out, "unknown.cdx.json")); err == nil {
		t.Errorf("an SBOM for an unknown platform was written")
	}
}
