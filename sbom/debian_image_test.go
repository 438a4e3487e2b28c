package sbom_test

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/package-url/packageurl-go"

	"github.com/hallmark-dev/hallmark/internal/tooltest"
	"github.com/hallmark-dev/hallmark/oci/ocitest"
	"github.com/hallmark-dev/hallmark/sbom"
)

// realDebianImage is a three-layer image of real Debian binary packages
// of this machine's release (ocitest.DebianImage): a base, an OpenSSL
// layer, and a layer with a Python library and a Go program.
func realDebianImage(t *testing.T) v1.Image {
	t.Helper()
	return ocitest.DebianImage(t, v1.Config{Env: []string{"PATH=/usr/bin"}},
		ocitest.DebianLayer{CreatedBy: "ADD rootfs /", Packages: []string{
			"base-files", "libc6", "libgcc-s1", "gcc-12-base", "zlib1g", "tar", "libacl1", "libselinux1", "libpcre2-8-0",
		}},
		ocitest.DebianLayer{CreatedBy: "RUN apt-get install -y openssl", Packages: []string{"libssl3", "openssl"}},
		ocitest.DebianLayer{CreatedBy: "RUN apt-get install -y python3-six fzf", Packages: []string{"python3-six", "fzf"}},
	)
}

// key names a package as "purl-type name version", the way both SBOMs can
// be compared: the purl's namespace and qualifiers (distro, arch, upstream)
// are spelled differently by each tool.
func key(t *testing.T, purl string) string {
	t.Helper()
	p, err := packageurl.FromString(purl)
	if err != nil {
		t.Fatalf("purl %q: %v", purl, err)
	}
	name := p.Name
	if p.Type == packageurl.TypeGolang && p.Namespace != "" {
		name = p.Namespace + "/" + p.Name
	}
	if p.Type == packageurl.TypePyPi {
		name = strings.ToLower(name)
	}
	return p.Type + " " + name + " " + strings.TrimPrefix(p.Version, "v")
}

func hallmarkKeys(t *testing.T, img v1.Image) (map[string]sbom.Component, []string) {
	t.Helper()
	h, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	inv, err := sbom.ScanImage(t.Context(), img, sbom.ImageSubject{Name: "registry.example/debian", Digest: h})
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]sbom.Component{}
	var keys []string
	for _, c := range inv.Components {
		k := key(t, c.PURL)
		byKey[k] = c
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return byKey, keys
}

// TestScanImageRealDebianPackages scans an image made of real .deb files:
// every installed package is found at the version its control file gives,
// in the layer that installed it, and the Python library and the Go
// program's modules in the last layer.
func TestScanImageRealDebianPackages(t *testing.T) {
	img := realDebianImage(t)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	byKey, _ := hallmarkKeys(t, img)
	debs := ocitest.DownloadDebs(t, "libc6", "openssl", "python3-six", "fzf")
	for _, tc := range []struct {
		pkg, purlType string
		layer         int
	}{{"libc6", "deb", 0}, {"openssl", "deb", 1}, {"python3-six", "deb", 2}, {"fzf", "deb", 2}} {
		version := debVersion(t, debs[tc.pkg])
		c, ok := byKey[tc.purlType+" "+tc.pkg+" "+version]
		if !ok {
			t.Errorf("%s %s not in the SBOM", tc.pkg, version)
			continue
		}
		if c.Layer == nil || c.Layer.Index != tc.layer || c.Layer.DiffID != cf.RootFS.DiffIDs[tc.layer].String() {
			t.Errorf("%s: layer %+v, want %d (%s)", tc.pkg, c.Layer, tc.layer, cf.RootFS.DiffIDs[tc.layer])
		}
		if !strings.HasPrefix(c.Ecosystem, "Debian:") {
			t.Errorf("%s: ecosystem %q, want Debian:<release>", tc.pkg, c.Ecosystem)
		}
	}
	if c, ok := byKey["pypi six 1.16.0"]; !ok || c.Layer == nil || c.Layer.Index != 2 {
		t.Errorf("the PyPI package six from python3-six: %+v (found %v), want it in layer 2", c.Layer, ok)
	}
	var goMods int
	for k, c := range byKey {
		if strings.HasPrefix(k, "golang ") && c.Layer != nil && c.Layer.Index == 2 {
			goMods++
		}
	}
	if goMods == 0 {
		t.Errorf("no Go module of the fzf binary in layer 2")
	}
}

func debVersion(t *testing.T, deb string) string {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), "dpkg-deb", "-f", deb, "Version").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// syftOnly and hallmarkOnly are the packages one tool lists and the other
// does not on realDebianImage, each with the reason (docs/images.md,
// "Compared with syft"). Any other difference fails the test.
var (
	syftOnly = map[string]string{
		// Debian builds Go programs in GOPATH mode: fzf's build information
		// names its main module (path github.com/junegunn/fzf) with no
		// version and no dependencies. syft lists the main module with an
		// empty version; Hallmark (osv-scalibr's Go binary extractor) lists
		// no component for it: a module without a version names no release
		// that an advisory could be about. The Debian package fzf and the
		// binary's standard library are in both.
		"golang github.com/junegunn/fzf ": "main module of a GOPATH build, without a version",
	}
	hallmarkOnly = map[string]string{}
)

// TestImageSBOMMatchesSyft compares Hallmark's SBOM of realDebianImage
// with syft's (the pinned syft of scripts/tools.sh) on the same OCI
// layout: the same packages at the same versions, but for the
// differences listed above.
func TestImageSBOMMatchesSyft(t *testing.T) {
	syft := tooltest.Find(t, "syft")
	img := realDebianImage(t)
	dir := filepath.Join(t.TempDir(), "layout")
	ocitest.WriteLayout(t, dir, img, "")
	_, ours := hallmarkKeys(t, img)

	cmd := exec.CommandContext(t.Context(), syft, "scan", "oci-dir:"+dir, "-o", "syft-json", "-q")
	cmd.Env = append(cmd.Environ(), "SYFT_CHECK_FOR_APP_UPDATE=false")
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("syft: %v\n%s", err, stderr)
	}
	var doc struct {
		Artifacts []struct {
			Name, Version, Type, PURL string
		} `json:"artifacts"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("syft output: %v", err)
	}
	var theirs []string
	for _, a := range doc.Artifacts {
		if a.PURL == "" {
			t.Errorf("syft lists %s %s (%s) without a purl", a.Name, a.Version, a.Type)
			continue
		}
		theirs = append(theirs, key(t, a.PURL))
	}
	slices.Sort(theirs)
	theirs = slices.Compact(theirs)

	var gotSyftOnly, gotHallmarkOnly []string
	for _, k := range theirs {
		if _, ok := slices.BinarySearch(ours, k); !ok {
			gotSyftOnly = append(gotSyftOnly, k)
		}
	}
	for _, k := range ours {
		if _, ok := slices.BinarySearch(theirs, k); !ok {
			gotHallmarkOnly = append(gotHallmarkOnly, k)
		}
	}
	t.Logf("hallmark %d packages, syft %d", len(ours), len(theirs))
	if diff := cmp.Diff(sortedKeys(syftOnly), gotSyftOnly); diff != "" {
		t.Errorf("packages only syft lists (-explained +found):\n%s", diff)
	}
	if diff := cmp.Diff(sortedKeys(hallmarkOnly), gotHallmarkOnly); diff != "" {
		t.Errorf("packages only Hallmark lists (-explained +found):\n%s", diff)
	}
}

func sortedKeys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
