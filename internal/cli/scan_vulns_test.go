package cli

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/finding"
	"github.com/hallmark-dev/hallmark/vuln"
)

// lodashOSV restates GHSA-jf85-cpcp-j695 (CVE-2019-10744): lodash < 4.17.12.
const lodashOSV = `{"id":"GHSA-jf85-cpcp-j695","modified":"2023-11-01T00:00:00Z","aliases":["CVE-2019-10744"],
"summary":"Prototype Pollution in lodash",
"severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:H"}],
"affected":[{"package":{"ecosystem":"npm","name":"lodash"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"4.17.12"}]}]}]}`

const lodashVEX = `{"@context":"https://openvex.dev/ns/v0.2.0","@id":"https://example.com/vex/1","author":"Example",
"timestamp":"2026-11-01T00:00:00Z","version":1,"statements":[{"vulnerability":{"name":"CVE-2019-10744"},
"products":[{"@id":"pkg:npm/lodash@4.17.11"}],"status":"not_affected","justification":"vulnerable_code_not_in_execute_path"}]}`

func TestDBUpdateAndScanVulns(t *testing.T) {
	ta := newTestApp(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "osv")
	os.MkdirAll(src, 0o755)
	writeFile(t, filepath.Join(src, "GHSA-jf85-cpcp-j695.json"), lodashOSV)
	vexFile := writeFile(t, filepath.Join(dir, "app.openvex.json"), lodashVEX)

	if code := ta.run("db", "update"); code != ExitUsage {
		t.Errorf("db update without --from: exit %d, want %d", code, ExitUsage)
	}
	if code := ta.run("db", "update", "--from", filepath.Join(dir, "missing")); code != ExitBadInput {
		t.Errorf("db update from a missing path: exit %d, want %d (%s)", code, ExitBadInput, ta.errOut)
	}
	ctx := t.Context()
	lodash := []vuln.Package{{PURL: "pkg:npm/lodash@4.17.11"}}
	if _, err := ta.ScanVulns(ctx, lodash, VulnScanOptions{}); exitCode(err) != ExitEnvironment {
		t.Errorf("ScanVulns before any import: err %v, exit %d", err, exitCode(err))
	}

	ta.mustRun(t, "db", "update", "--from", src)
	if out := ta.out.String(); !strings.Contains(out, "npm") || !strings.Contains(out, "1 ") {
		t.Errorf("db update output:\n%s", out)
	}
	ta.mustRun(t, "db", "status")
	if !strings.Contains(ta.out.String(), "ok") {
		t.Errorf("db status output:\n%s", ta.out)
	}

	rep, err := ta.ScanVulns(ctx, lodash, VulnScanOptions{})
	if err != nil {
		t.Fatalf("ScanVulns: %v", err)
	}
	if len(rep.Active()) != 1 || rep.Findings[0].Rating.Severity != finding.SeverityCritical {
		t.Fatalf("findings = %+v", rep.Findings)
	}
	if err := VulnFailOn(rep, finding.SeverityHigh, false); exitCode(err) != ExitRejected {
		t.Errorf("VulnFailOn(high): %v", err)
	}

	rep, err = ta.ScanVulns(ctx, lodash, VulnScanOptions{VEX: []string{vexFile}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 1 || len(rep.Active()) != 0 {
		t.Fatalf("VEX: %d findings, %d active; want 1 listed and suppressed", len(rep.Findings), len(rep.Active()))
	}
	if err := VulnFailOn(rep, finding.SeverityLow, true); err != nil {
		t.Errorf("VulnFailOn with everything suppressed: %v", err)
	}
	var buf bytes.Buffer
	if err := WriteVulnReport(&buf, rep, "table"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "suppressed (VEX not_affected)") {
		t.Errorf("table:\n%s", buf.String())
	}

	// A PyPI package with no PyPI data: incomplete, never clean.
	rep, err = ta.ScanVulns(ctx, []vuln.Package{{PURL: "pkg:pypi/requests@2.28.0"}}, VulnScanOptions{})
	if !errors.Is(err, vuln.ErrNoEcosystemData) || exitCode(err) != ExitEnvironment {
		t.Fatalf("ScanVulns without PyPI data: err %v, exit %d", err, exitCode(err))
	}
	buf.Reset()
	WriteVulnReport(&buf, rep, "table")
	if !strings.Contains(buf.String(), "INCOMPLETE") || strings.Contains(buf.String(), "no known vulnerabilities") {
		t.Errorf("incomplete table:\n%s", buf.String())
	}
	buf.Reset()
	WriteVulnReport(&buf, rep, "json")
	if !strings.Contains(buf.String(), `"complete": false`) {
		t.Errorf("incomplete json:\n%s", buf.String())
	}
}

// TestScanVulnsGoSBOM: a syft CycloneDX SBOM of a Go tree lists the main
// module with version UNKNOWN; it is skipped with a note instead of making
// the scan incomplete (issue 16.12), and Go findings take their severity
// from the aliased GHSA records so --fail-on high fails (issue 16.4).
func TestScanVulnsGoSBOM(t *testing.T) {
	ta := newTestApp(t)
	ta.mustRun(t, "db", "update", "--from", filepath.Join("..", "..", "vuln", "testdata", "osvalias"))
	bom := writeFile(t, filepath.Join(t.TempDir(), "bom.cdx.json"), `{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,
"components":[
 {"type":"library","name":"example.com/app","version":"UNKNOWN","purl":"pkg:golang/example.com/app@UNKNOWN"},
 {"type":"library","name":"k8s.io/kubernetes","version":"v1.25.3","purl":"pkg:golang/k8s.io/kubernetes@v1.25.3"}]}`)
	code := ta.run("scan", "--vulns", bom, "--fail-on", "high")
	if code != ExitRejected {
		t.Fatalf("exit %d, want %d (rejected: GO-2023-1629 is high through GHSA-jh36-q97c-9928)\n%s%s", code, ExitRejected, ta.out, ta.errOut)
	}
	if !strings.Contains(ta.errOut.String(), "skipped example.com/app") || !strings.Contains(ta.out.String(), "GO-2023-1629  high") {
		t.Errorf("output:\n%s%s", ta.out, ta.errOut)
	}
}

// TestScanVulnsStdlibFromToolchain: the standard library of a source tree
// is the toolchain directive, else the go on PATH (as govulncheck), not the
// go directive's minimum, and the scan says which (issue 16.5).
// GO-2023-2044 affects go1.21.0 only.
func TestScanVulnsStdlibFromToolchain(t *testing.T) {
	goversion, err := exec.Command("go", "env", "GOVERSION").Output()
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	ta := newTestApp(t)
	ta.mustRun(t, "db", "update", "--from", filepath.Join("..", "..", "vuln", "testdata", "osv", "go"))
	for _, tc := range []struct {
		name, gomod, note string
		affected          bool
	}{
		{"go directive only", "module example.com/a\n\ngo 1.21.0\n", "is " + strings.TrimSpace(string(goversion)) + ", from `go env GOVERSION`", false},
		{"toolchain directive", "module example.com/a\n\ngo 1.20\n\ntoolchain go1.21.0\n", "is go1.21.0, from the go.mod toolchain directive", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "go.mod"), tc.gomod)
			code := ta.run("scan", "--vulns", dir)
			if code != ExitOK {
				t.Fatalf("exit %d\n%s%s", code, ta.out, ta.errOut)
			}
			if !strings.Contains(ta.errOut.String(), tc.note) {
				t.Errorf("stderr lacks %q:\n%s", tc.note, ta.errOut)
			}
			if got := strings.Contains(ta.out.String(), "GO-2023-2044"); got != tc.affected {
				t.Errorf("GO-2023-2044 reported = %v, want %v:\n%s", got, tc.affected, ta.out)
			}
		})
	}
}
