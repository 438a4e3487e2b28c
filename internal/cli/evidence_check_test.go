package cli

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/store/postgres"
	"github.com/hallmark-dev/hallmark/store/postgres/pgtest"
)

// TestEvidenceCheck: a consistent store passes, on the project's SQLite
// store and on a server's PostgreSQL store (which prune --config reads
// with the configuration's trust file); a PostgreSQL store missing a
// subject row of one of its records fails the check with exit 1, saying so.
func TestEvidenceCheck(t *testing.T) {
	ta := newTestApp(t)
	ta.mustRun(t, "evidence", "check")
	if !strings.Contains(ta.out.String(), "evidence store consistent") {
		t.Errorf("check of the project store: %s", ta.out)
	}

	dsn := pgtest.FreshSchema(t)
	st, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	k := attesttest.Key(t, keys.Ed25519)
	if _, err := st.Put(t.Context(), attesttest.Verified(t, k, "https://example.com/sbom", map[string]any{"n": 1}, attesttest.Subject("app", []byte("app")))); err != nil {
		t.Fatal(err)
	}
	st.Close()
	dir := t.TempDir()
	cfg := writeFile(t, filepath.Join(dir, "hallmark.yaml"), fmt.Sprintf("store: {driver: postgres, dsn: %q}\ntrust: trust.yaml\npolicies: {dev: builtin}\ngate: {key: gate.key}\nauth: {insecureAnonymousAdmission: true}\n", dsn))
	ta.mustRun(t, "evidence", "check", "--config", cfg)
	if !strings.Contains(ta.out.String(), "evidence store consistent") {
		t.Errorf("check of the server's store: %s", ta.out)
	}
	// prune opens the same store through the configuration, with its trust file.
	if _, _, err := keys.WriteFiles(filepath.Join(dir, "gate"), attesttest.Key(t, keys.Ed25519), []byte("test-pass")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "trust.yaml"), "version: 1\nkeys:\n  - {name: gate, publicKey: gate.pub, roles: [gate]}\n")
	ta.mustRun(t, "evidence", "prune", "--config", cfg, "--keep", "720h", "--dry-run")
	if !strings.Contains(ta.errOut.String(), "0 of 1 record(s) would remove") {
		t.Errorf("prune --config of the server's store: %s", ta.errOut)
	}
	if code := ta.run("evidence", "prune", "--config", cfg, "--trust", "t.yaml", "--keep", "720h"); code != ExitUsage {
		t.Errorf("prune with --config and --trust: exit %d, %s", code, ta.errOut)
	}

	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	if _, err := conn.Exec(t.Context(), `DELETE FROM subjects`); err != nil {
		t.Fatal(err)
	}
	if code := ta.run("evidence", "check", "--config", cfg); code != ExitRejected || !strings.Contains(ta.errOut.String(), "integrity check failed") {
		t.Errorf("check of a store missing a subject row: exit %d, %s", code, ta.errOut)
	}
}
