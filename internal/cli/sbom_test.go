package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/depcheck"
	"github.com/hallmark-dev/hallmark/oci"
	"github.com/hallmark-dev/hallmark/sbom"
	"github.com/hallmark-dev/hallmark/vuln"
)

func TestSBOMCommand(t *testing.T) {
	ta := newTestApp(t)
	ta.mustRun(t, "sbom", "../../sbom/testdata/rootfs-alpine", "--format", "spdx")
	var doc struct {
		SPDXVersion  string `json:"spdxVersion"`
		CreationInfo struct {
			Created string `json:"created"`
		} `json:"creationInfo"`
		Packages []struct {
			Name string `json:"name"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(ta.out.Bytes(), &doc); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, ta.out)
	}
	if doc.SPDXVersion != "SPDX-2.3" || len(doc.Packages) != 5 || doc.CreationInfo.Created != "2026-11-25T12:00:00Z" {
		t.Errorf("spdx document: version %q, %d packages, created %q; want SPDX-2.3, subject + 4, the app clock",
			doc.SPDXVersion, len(doc.Packages), doc.CreationInfo.Created)
	}

	// SOURCE_DATE_EPOCH fixes the time; the same input gives the same bytes.
	ta.env[SourceDateEpochEnv] = "1700000000"
	out := filepath.Join(t.TempDir(), "bom.json")
	ta.mustRun(t, "sbom", "../../sbom/testdata/rootfs-alpine", "--out", out)
	first := ta.readFile(t, out)
	ta.mustRun(t, "sbom", "../../sbom/testdata/rootfs-alpine", "--out", out)
	if !bytes.Equal(first, ta.readFile(t, out)) {
		t.Error("two runs with SOURCE_DATE_EPOCH gave different documents")
	}
	if !bytes.Contains(first, []byte(`"timestamp": "2023-11-14T22:13:20Z"`)) || !bytes.Contains(first, []byte(`"specVersion": "1.6"`)) {
		t.Errorf("CycloneDX document lacks the SOURCE_DATE_EPOCH timestamp or spec version:\n%.400s", first)
	}

	// An SBOM as PATH is converted.
	spdxOut := filepath.Join(t.TempDir(), "bom.spdx.json")
	ta.mustRun(t, "sbom", out, "--format", "spdx", "--out", spdxOut)
	if !bytes.Contains(ta.readFile(t, spdxOut), []byte(`"name": "musl"`)) {
		t.Error("converting the CycloneDX SBOM to SPDX lost musl")
	}

	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"sbom", "../../sbom/testdata/tree", "--format", "swid"}, ExitUsage},
		{[]string{"sbom", filepath.Join(t.TempDir(), "absent")}, ExitBadInput},
		{[]string{"sbom", "../../sbom/testdata/tree", "--timestamp", "yesterday"}, ExitUsage},
		{[]string{"sbom", "../../sbom/testdata/tree", "--key", "x.key"}, ExitUsage}, // a directory has no digest to sign
		{[]string{"sbom", writeFile(t, filepath.Join(t.TempDir(), "bad.cdx.json"), `{"bomFormat":"CycloneDX","components":7}`)}, ExitBadInput},
	} {
		if code := ta.run(tc.args...); code != tc.code {
			t.Errorf("hallmark %s: exit %d, want %d (%s)", strings.Join(tc.args, " "), code, tc.code, ta.errOut)
		}
	}
}

func TestSBOMSignedAndStored(t *testing.T) {
	ta := newTestApp(t)
	dir := t.TempDir()
	key := filepath.Join(dir, "signer")
	ta.mustRun(t, "keygen", key)
	art := writeFile(t, filepath.Join(dir, "app.bin"), "not a Go binary, so an empty inventory")
	ta.mustRun(t, "sbom", art, "--key", key+".key", "--out", filepath.Join(dir, "app.cdx.json"))
	if !strings.Contains(ta.errOut.String(), "stored") || !strings.Contains(ta.errOut.String(), "https://cyclonedx.org/bom") {
		t.Errorf("stderr: %s", ta.errOut)
	}
}

func TestScanDeps(t *testing.T) {
	ta := newTestApp(t)
	fs, inv, err := ta.scanDeps(t.Context(), "../../depcheck/testdata/app", depsScanOptions{Policy: "../../depcheck/testdata/policy.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Components) != 6 {
		t.Errorf("%d components, want 6", len(inv.Components))
	}
	rules := map[string]int{}
	for _, f := range fs {
		rules[f.RuleID]++
	}
	if rules[depcheck.RuleDenied] != 2 || rules[depcheck.RuleLookalike] != 2 {
		t.Errorf("findings by rule = %v, want 2 denied and 2 look-alikes", rules)
	}
	// The same check on an SBOM of the tree, in either format.
	for _, format := range []string{"cyclonedx", "spdx"} {
		doc := filepath.Join(t.TempDir(), "app."+format+".json")
		ta.mustRun(t, "sbom", "../../depcheck/testdata/app", "--format", format, "--out", doc)
		fromDoc, _, err := ta.scanDeps(t.Context(), doc, depsScanOptions{Policy: "../../depcheck/testdata/policy.yaml"})
		if err != nil {
			t.Fatal(err)
		}
		if len(fromDoc) != len(fs) {
			t.Errorf("%s SBOM: %d findings, the tree gave %d", format, len(fromDoc), len(fs))
		}
	}
	// Without a policy file only look-alikes are reported.
	fs, _, err = ta.scanDeps(t.Context(), "../../depcheck/testdata/app", depsScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 {
		t.Errorf("default policy: %d findings, want the 2 look-alikes", len(fs))
	}
	if _, _, err := ta.scanDeps(t.Context(), "../../depcheck/testdata/app", depsScanOptions{Policy: "../../depcheck/testdata/app/requirements.txt"}); exitCode(err) != ExitBadInput {
		t.Errorf("bad policy file: err %v, exit %d", err, exitCode(err))
	}
}

func (ta *testApp) readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVulnPackagesFromInventory(t *testing.T) {
	ta := newTestApp(t)
	inv, err := ta.inventory(t.Context(), "../../sbom/testdata/rootfs-debian", false, oci.AllPlatforms)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]vuln.Package{}
	for _, p := range sbom.VulnPackages(inv) {
		got[p.PURL] = p
	}
	zlib := got["pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=bookworm&source=zlib"]
	if zlib.Name != "zlib" || zlib.Version != "1:1.2.13.dfsg-1" || zlib.Ecosystem != "Debian:12" {
		t.Errorf("zlib1g maps to %+v, want source package zlib in Debian:12", zlib)
	}
	if len(got) != 4 {
		t.Errorf("%d packages, want 4", len(got))
	}

	bin, err := ta.inventory(t.Context(), "../../sbom/testdata/tree/go", false, oci.AllPlatforms)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range sbom.VulnPackages(bin) {
		if p.Ecosystem != "Go" || p.Version == "" || strings.HasPrefix(p.Version, "v") {
			t.Errorf("Go package %+v: want OSV-style version without v", p)
		}
	}
}
