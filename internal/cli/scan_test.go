package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/finding"
	"github.com/hallmark-dev/hallmark/vuln"
)

const lodashLock = `{"name":"app","version":"1.0.0","lockfileVersion":3,"requires":true,
"packages":{"":{"name":"app","version":"1.0.0","dependencies":{"lodash":"4.17.11"}},
"node_modules/lodash":{"version":"4.17.11","resolved":"https://registry.npmjs.org/lodash/-/lodash-4.17.11.tgz","integrity":"sha512-cQKh8igo5QUhZ7lg38DYWAxMvjSAKG0A8wGSVimP07SIUEK2UO+arSRKbRZWtelMtN5V0Hkwh5ryOto/SshYIg==","license":"MIT"}}}`

// TestScanCommand runs `hallmark scan` end to end: vulnerability matching
// from a lockfile against an imported OSV record, --fail-on, signing and
// storing the results, misconfig and deps modes, and the refusals.
func TestScanCommand(t *testing.T) {
	ta := newTestApp(t)
	dir := t.TempDir()
	tree := filepath.Join(dir, "app")
	os.MkdirAll(tree, 0o755)
	writeFile(t, filepath.Join(tree, "package-lock.json"), lodashLock)
	art := writeFile(t, filepath.Join(dir, "app.tgz"), "release tarball")
	ta.mustRun(t, "keygen", filepath.Join(dir, "scanner"))
	key := filepath.Join(dir, "scanner.key")

	if code := ta.run("scan", "--vulns", tree); code != ExitEnvironment {
		t.Errorf("scan before any database: exit %d, want %d (%s)", code, ExitEnvironment, ta.errOut)
	}
	ta.mustRun(t, "db", "update", "--from", "../../vuln/testdata/osv/npm")

	ta.mustRun(t, "scan", "--vulns", tree, "--format", "json")
	var rep struct {
		Complete bool
		Findings []vuln.Finding
	}
	if err := json.Unmarshal(ta.out.Bytes(), &rep); err != nil {
		t.Fatalf("json output: %v\n%s", err, ta.out)
	}
	if !rep.Complete || len(rep.Findings) != 1 || rep.Findings[0].ID != "GHSA-jf85-cpcp-j695" {
		t.Fatalf("findings: %+v", rep)
	}
	if code := ta.run("scan", "--vulns", tree, "--fail-on", "high"); code != ExitRejected {
		t.Errorf("--fail-on high: exit %d, want %d", code, ExitRejected)
	}
	ta.mustRun(t, "scan", "--vulns", tree, "--format", "sarif")
	if !strings.Contains(ta.out.String(), `"version": "2.1.0"`) && !strings.Contains(ta.out.String(), `"version":"2.1.0"`) {
		t.Errorf("sarif output: %s", ta.out)
	}
	ta.mustRun(t, "scan", "--vulns", tree, "--key", key, "--subject", art)
	ta.mustRun(t, "evidence", "ls", "--type", vuln.PredicateType, "--format", "json")
	if !strings.Contains(ta.out.String(), "app.tgz") {
		t.Errorf("vulns attestation not stored about the artifact: %s", ta.out)
	}

	df := writeFile(t, filepath.Join(dir, "Dockerfile"), "FROM ubuntu:latest\nRUN curl -k https://example.com/install.sh | sh\n")
	if code := ta.run("scan", "--misconfig", df, "--fail-on", "high", "--key", key, "--subject", art); code != ExitRejected {
		t.Errorf("dirty Dockerfile: exit %d, want %d (%s)", code, ExitRejected, ta.errOut)
	}
	ta.mustRun(t, "evidence", "ls", "--type", finding.PredicateType, "--format", "json")
	if !strings.Contains(ta.out.String(), finding.PredicateType) {
		t.Errorf("misconfig results not stored: %s", ta.out)
	}

	ta.mustRun(t, "scan", "--deps", tree)
	if code := ta.run("scan", "--vulns", "--misconfig", tree); code != ExitUsage {
		t.Errorf("two modes: exit %d, want %d", code, ExitUsage)
	}
	if code := ta.run("scan", "--misconfig", tree, "--key", key); code != ExitUsage {
		t.Errorf("--key on a directory without --subject: exit %d, want %d", code, ExitUsage)
	}
}
