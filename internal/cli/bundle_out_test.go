package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBundleOut reproduces issue #16.8: signed SBOMs and scans were only
// stored, so pushing them needed a manual export. --bundle-out writes the
// signed bundle too; it verifies with the signing key and push takes it.
func TestBundleOut(t *testing.T) {
	ta := newTestApp(t)
	dir := t.TempDir()
	key := filepath.Join(dir, "signer")
	ta.mustRun(t, "keygen", key)
	art := writeFile(t, filepath.Join(dir, "app.bin"), "not a Go binary, so an empty inventory")
	tree := t.TempDir()
	writeFile(t, filepath.Join(tree, "Dockerfile"), "FROM alpine:3.19\nRUN echo hi\n")

	cases := []struct {
		name, bundle, predicateType string
		args                        []string
	}{
		{"sbom", "sbom.bundle.json", "https://cyclonedx.org/bom", []string{"sbom", art, "--key", key + ".key", "--out", filepath.Join(dir, "app.cdx.json")}},
		{"scan --misconfig", "misconfig.bundle.json", "https://hallmark.dev/attestation/findings/v1", []string{"scan", "--misconfig", tree, "--key", key + ".key", "--subject", art, "--format", "json"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(dir, c.bundle)
			ta.mustRun(t, append(c.args, "--bundle-out", out)...)
			if _, err := os.Stat(out); err != nil {
				t.Fatalf("no bundle written: %v\n%s", err, ta.errOut)
			}
			ta.mustRun(t, "verify", "--key", key+".pub", "--bundle", out, "--predicate-type", c.predicateType, art)
		})
	}
	for _, args := range [][]string{
		{"sbom", art, "--bundle-out", filepath.Join(dir, "x.json")},                                   // no --key
		{"sbom", art, "--key", key + ".key", "--bundle-out", "-"},                                     // stdout is the SBOM
		{"scan", "--misconfig", tree, "--subject", art, "--bundle-out", filepath.Join(dir, "y.json")}, // no --key
	} {
		if code := ta.run(args...); code != ExitUsage {
			t.Errorf("hallmark %s: exit %d, want %d (%s)", strings.Join(args, " "), code, ExitUsage, ta.errOut)
		}
	}
}
