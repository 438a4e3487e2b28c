package cli

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/hallmark-dev/hallmark/oci/ocitest"
	"github.com/hallmark-dev/hallmark/vuln"
)

// ubuntuImage writes an OCI layout of real Ubuntu 22.04 packages: the base
// suite's base-files (os-release says ubuntu 22.04) and zlib1g from suite,
// downloaded from archive.ubuntu.com (ocitest.UbuntuDebs). It returns the
// layout directory and the installed zlib1g version.
func ubuntuImage(t *testing.T, zlibSuite string) (string, string) {
	t.Helper()
	debs := ocitest.UbuntuDebs(t, "jammy", "base-files")
	for k, v := range ocitest.UbuntuDebs(t, zlibSuite, "zlib1g") {
		debs[k] = v
	}
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Skip("dpkg-deb not found: the Ubuntu image test needs it to unpack .deb files")
	}
	img, err := ocitest.NewDebianImage(t.Context(), t.TempDir(), debs, v1.Config{},
		ocitest.DebianLayer{CreatedBy: "ADD ubuntu-jammy /", Packages: []string{"base-files", "zlib1g"}})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "layout")
	ocitest.WriteLayout(t, dir, img, "")
	out, err := exec.CommandContext(t.Context(), "dpkg-deb", "-f", debs["zlib1g"], "Version").Output()
	if err != nil {
		t.Fatal(err)
	}
	return dir, strings.TrimSpace(string(out))
}

// TestScanVulnsRealUbuntuImage scans images of real Ubuntu 22.04 packages
// against Canonical's own OSV record for CVE-2022-37434 (zlib), whose
// affected entries name "Ubuntu:22.04:LTS" and "Ubuntu:Pro:<release>:LTS"
// while the image's packages are "Ubuntu:22.04" (os-release VERSION_ID),
// the way osv.dev names them. zlib1g as Ubuntu 22.04 released it
// (1:1.2.11.dfsg-2ubuntu9) is below the record's jammy fix
// (1:1.2.11.dfsg-2ubuntu9.2), so the scan reports the record under the
// source package zlib with the installed version and the jammy fix only;
// zlib1g from jammy-updates carries the fix, so the same record does not
// match it.
func TestScanVulnsRealUbuntuImage(t *testing.T) {
	ta := newTestApp(t)
	ta.mustRun(t, "db", "update", "--from", filepath.Join("..", "..", "vuln", "testdata", "ubuntu"))

	scan := func(layout string) vuln.Report {
		t.Helper()
		ta.mustRun(t, "scan", "--vulns", "oci:"+layout, "--format", "json")
		var rep vuln.Report
		if err := json.Unmarshal(ta.out.Bytes(), &rep); err != nil {
			t.Fatalf("scan output: %v\n%s", err, ta.out)
		}
		return rep
	}

	layout, version := ubuntuImage(t, "jammy")
	if version != "1:1.2.11.dfsg-2ubuntu9" {
		t.Fatalf("jammy zlib1g is %s; this test is written for 1:1.2.11.dfsg-2ubuntu9", version)
	}
	rep := scan(layout)
	var found []vuln.Finding
	for _, f := range rep.Findings {
		if f.ID == "CVE-2022-37434" {
			found = append(found, f)
		}
	}
	if len(found) != 1 {
		t.Fatalf("CVE-2022-37434 reported %d times, want once; findings %+v", len(found), rep.Findings)
	}
	f := found[0]
	if f.Package.Ecosystem != "Ubuntu:22.04" || f.Package.Name != "zlib" || f.InstalledVersion != version {
		t.Errorf("finding names %s %s %s, want Ubuntu:22.04 zlib %s", f.Package.Ecosystem, f.Package.Name, f.InstalledVersion, version)
	}
	if len(f.FixedVersions) != 1 || f.FixedVersions[0] != "1:1.2.11.dfsg-2ubuntu9.2" {
		t.Errorf("fixed versions %v, want only the jammy fix 1:1.2.11.dfsg-2ubuntu9.2", f.FixedVersions)
	}
	if !strings.HasPrefix(f.Package.PURL, "pkg:deb/ubuntu/zlib1g@") {
		t.Errorf("purl %q, want the binary package zlib1g's", f.Package.PURL)
	}

	layout, version = ubuntuImage(t, "jammy-updates")
	rep = scan(layout)
	for _, f := range rep.Findings {
		if f.ID == "CVE-2022-37434" {
			t.Errorf("zlib1g %s from jammy-updates carries the fix, yet CVE-2022-37434 is reported: %+v", version, f)
		}
	}
	if rep.Packages == 0 {
		t.Errorf("the jammy-updates image scan saw no packages")
	}
}
