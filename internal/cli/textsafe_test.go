package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestAttackTerminalEscapesInEvidence reproduces issue #20.10: a subject
// name chosen by whoever signed the evidence (here a file name with an OSC
// title sequence, a CSI clear-screen, a forged line and a bidi override) was
// printed raw by `evidence ls`. Text output escapes it; JSON keeps it exact.
func TestAttackTerminalEscapesInEvidence(t *testing.T) {
	ta := newTestApp(t)
	dir := t.TempDir()
	key := filepath.Join(dir, "signer")
	ta.mustRun(t, "keygen", key)
	name := "\x1b]0;pwned\x07\x1b[2Japp\nALLOW fake\u202eexe.bin"
	art := writeFile(t, filepath.Join(dir, name), "binary contents")
	pred := writeFile(t, filepath.Join(dir, "pred.json"), `{"note":"hello"}`)
	ta.mustRun(t, "attest", "--key", key+".key", "--predicate-type", "https://example.com/p/v1", "--predicate", pred, "--out", filepath.Join(dir, "b.json"), art)

	ta.mustRun(t, "evidence", "ls")
	out := ta.out.String()
	if strings.ContainsAny(out, "\x1b\x07\u202e") || strings.Count(out, "\n") != 2 {
		t.Fatalf("evidence ls prints control characters raw:\n%q", out)
	}
	if !strings.Contains(out, `\x1b]0;pwned\x07\x1b[2Japp\nALLOW fake\u202eexe.bin`) {
		t.Errorf("escaped name missing from the table:\n%s", out)
	}

	ta.mustRun(t, "evidence", "ls", "--format", "json")
	var recs []struct {
		Subjects []struct {
			Name string `json:"name"`
		} `json:"subjects"`
	}
	if err := json.Unmarshal(ta.out.Bytes(), &recs); err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || len(recs[0].Subjects) != 1 || !strings.HasSuffix(recs[0].Subjects[0].Name, "/"+name) {
		t.Errorf("JSON output is not exact: %+v", recs)
	}
}
