package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestEvidenceShowAcceptsPrefixes reproduces issue #16.8: `evidence ls`
// printed short IDs that `evidence show` rejected as "evidence not found".
func TestEvidenceShowAcceptsPrefixes(t *testing.T) {
	ta := newTestApp(t)
	dir := t.TempDir()
	key := filepath.Join(dir, "signer")
	ta.mustRun(t, "keygen", key)
	art := writeFile(t, filepath.Join(dir, "app.bin"), "binary contents")
	pred := writeFile(t, filepath.Join(dir, "pred.json"), `{"note":"hello"}`)
	ta.mustRun(t, "attest", "--key", key+".key", "--predicate-type", "https://example.com/p/v1", "--predicate", pred, "--out", filepath.Join(dir, "b.json"), art)
	ta.mustRun(t, "evidence", "ls")
	lines := strings.Split(strings.TrimSpace(ta.out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("evidence ls:\n%s", ta.out)
	}
	printed := strings.Fields(lines[1])[0] // what a person copies
	ta.mustRun(t, "evidence", "ls", "--format", "json")
	var recs []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(ta.out.Bytes(), &recs); err != nil || len(recs) != 1 {
		t.Fatalf("evidence ls json: %v %s", err, ta.out)
	}
	full := recs[0].ID
	hexID := strings.TrimPrefix(full, "sha256:")
	for _, ref := range []string{printed, hexID[:7], strings.ToUpper(hexID[:12]), full} {
		ta.mustRun(t, "evidence", "show", ref)
		if !strings.Contains(ta.out.String(), full) {
			t.Errorf("evidence show %s:\n%s", ref, ta.out)
		}
	}
	if code := ta.run("evidence", "show", hexID[:6]); code != ExitUsage || !strings.Contains(ta.errOut.String(), "shorter than 7") {
		t.Errorf("6-digit prefix: exit %d, %s", code, ta.errOut)
	}
	other := "0000000"
	if strings.HasPrefix(hexID, other) {
		other = "fffffff"
	}
	if code := ta.run("evidence", "show", other); code != ExitBadInput || !strings.Contains(ta.errOut.String(), "not found") {
		t.Errorf("unknown prefix: exit %d, %s", code, ta.errOut)
	}
}
