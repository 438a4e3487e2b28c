package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/trust"
)

// initRepo is a git repository with one commit, an origin remote and the
// branch master: a project that is not Hallmark.
func initRepo(t *testing.T, remote string) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	repo := t.TempDir()
	gitIn(t, repo, "init", "-q", "-b", "master")
	writeFile(t, filepath.Join(repo, "input.txt"), "hello\n")
	writeFile(t, filepath.Join(repo, "build.sh"), "mkdir -p dist && cat input.txt > dist/app\n")
	gitIn(t, repo, "add", ".")
	gitIn(t, repo, "commit", "-q", "-m", "first")
	gitIn(t, repo, "remote", "add", "origin", remote)
	return repo
}

// TestInit: after `hallmark init` in a fresh project, the README's commands
// run without --key, --trust or --policy, the build is clean, and the policy
// is the built-in presets for this repository (issue 16.1, 16.3).
func TestInit(t *testing.T) {
	repo := initRepo(t, "https://github.com/acme/widget.git")
	ta := newTestApp(t)
	home := t.TempDir()
	ta.env["HOME"] = home
	delete(ta.env, StoreEnv) // the project's store
	t.Chdir(repo)

	ta.mustRun(t, "init")
	keysDir := filepath.Join(home, ".config", "hallmark", "keys", "widget")
	if st, err := os.Stat(keysDir); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("keys directory %s: %v, %v; want mode 0700", keysDir, st, err)
	}
	for _, role := range projectKeyRoles {
		if st, err := os.Stat(filepath.Join(keysDir, role+".key")); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s.key: %v, %v; want mode 0600", role, st, err)
		}
	}
	proj, err := readProject(filepath.Join(repo, ProjectFile), home)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ProjectInfo{Name: "widget", Repository: "https://github.com/acme/widget", DefaultBranch: "master",
		BuilderID: "https://hallmark.dev/builders/local/v1"}, proj.Project); diff != "" {
		t.Errorf("project (-want +got):\n%s", diff)
	}
	if proj.Keys["gate"] != filepath.Join(keysDir, "gate.key") || proj.Trust != filepath.Join(repo, ProjectTrustFile) {
		t.Errorf("keys %v, trust %s", proj.Keys, proj.Trust)
	}
	raw, _ := os.ReadFile(filepath.Join(repo, ProjectFile))
	if !strings.Contains(string(raw), "~/.config/hallmark/keys/widget/builder.key") {
		t.Errorf("key paths are not written relative to home:\n%s", raw)
	}
	tr, err := trust.Load(proj.Trust)
	if err != nil {
		t.Fatal(err)
	}
	for _, role := range []trust.Role{trust.RoleBuilder, trust.RoleScanner, trust.RoleRebuilder, trust.RoleApprover, trust.RoleGate} {
		if tr.WithRole(role).Len() != 1 {
			t.Errorf("trust file: %d keys with role %s, want 1", tr.WithRole(role).Len(), role)
		}
	}
	pb, _ := os.ReadFile(filepath.Join(repo, ProjectPolicyFile))
	presets, err := policy.ParsePreset(pb)
	if err != nil {
		t.Fatal(err)
	}
	prod, _ := presets.Params("prod")
	if diff := cmp.Diff([]string{"https://github.com/acme/widget"}, prod.Source.Repositories); diff != "" {
		t.Errorf("prod source.repositories (-want +got):\n%s", diff)
	}
	if prod.Source.Refs[0] != "refs/heads/master" || prod.SLSA.Builders[0] != "https://hallmark.dev/builders/local/v1" {
		t.Errorf("prod refs %v, builders %v", prod.Source.Refs, prod.SLSA.Builders)
	}
	gi, _ := os.ReadFile(filepath.Join(repo, ".gitignore"))
	if !strings.Contains(string(gi), "/.hallmark/\n") || !strings.Contains(string(gi), "/dist/\n") {
		t.Errorf(".gitignore:\n%s", gi)
	}

	// A second init would overwrite the configuration: refused.
	if code := ta.run("init"); code != ExitUsage || !strings.Contains(ta.errOut.String(), "--force") {
		t.Errorf("second init: exit %d, want %d\n%s", code, ExitUsage, ta.errOut)
	}
	if code := ta.run("init", "--force", "--keys-dir", filepath.Join(repo, "keys")); code != ExitUsage || !strings.Contains(ta.errOut.String(), "inside the work tree") {
		t.Errorf("keys inside the tree: exit %d, want %d\n%s", code, ExitUsage, ta.errOut)
	}

	gitIn(t, repo, "add", ".")
	gitIn(t, repo, "commit", "-q", "-m", "hallmark init")

	// build: the project's builder key signs; the tree stays clean.
	ta.mustRun(t, "build", "--sandbox", "off", "--output-dir", "dist", "--", "sh", "build.sh")
	bundle := filepath.Join(repo, DefaultStoreDir, "build", "provenance.bundle.json")
	if _, err := os.Stat(bundle); err != nil {
		t.Fatalf("no signed provenance: %v\n%s", err, ta.errOut)
	}
	if status := gitIn(t, repo, "status", "--porcelain"); status != "" {
		t.Errorf("the build left the tree dirty:\n%s", status)
	}
	ta.mustRun(t, "provenance", "show", "--key", filepath.Join(keysDir, "builder.pub"), bundle)
	if strings.Contains(ta.out.String(), "uncommitted") {
		t.Errorf("provenance records uncommitted changes:\n%s", ta.out)
	}
	// rebuild, approve, scan with --subject: the project's keys.
	ta.mustRun(t, "rebuild", "--bundle", bundle, "--sandbox", "off")
	ta.mustRun(t, "approve", "dist/app", "--env", "prod")
	ta.mustRun(t, "sbom", "dist/app", "--out", filepath.Join(t.TempDir(), "app.cdx.json"))
	ta.mustRun(t, "scan", "--secrets", "dist/app", "--subject", "dist/app")
	if !strings.Contains(ta.errOut.String(), "signed") {
		t.Errorf("scan with --subject did not sign with the project's scanner key:\n%s", ta.errOut)
	}
	// gate: the project's trust file, key and policy decide (deny: no
	// second approver, no SBOM, ...), and the repository is this one.
	code := ta.run("gate", "dist/app", "--env", "prod")
	if code != ExitRejected {
		t.Fatalf("gate: exit %d, want %d (denied)\n%s\n%s", code, ExitRejected, ta.out, ta.errOut)
	}
	out := ta.out.String()
	if !strings.Contains(out, "policy: file://"+filepath.Join(repo, ProjectPolicyFile)) || strings.Contains(out, "source.") || strings.Contains(out, "slsa_l3.builder") {
		t.Errorf("gate verdict:\n%s", out)
	}
	// Flags still override the project.
	ta.run("gate", "dist/app", "--env", "prod", "--policy", "builtin:dev")
	if !strings.Contains(ta.out.String(), "policy: builtin:v1/dev") {
		t.Errorf("gate --policy builtin:dev did not override the project's policy:\n%s%s", ta.out, ta.errOut)
	}
	ta.mustRun(t, "deployments", "ls", "--env", "prod")
	if !strings.Contains(ta.out.String(), "deny") {
		t.Errorf("deployments ls with the project's trust file:\n%s", ta.out)
	}
}

// An scp-like origin is recorded as build records it.
func TestInitSCPRemote(t *testing.T) {
	repo := initRepo(t, "git@github.com:acme/gadget.git")
	ta := newTestApp(t)
	ta.env["XDG_CONFIG_HOME"] = t.TempDir()
	t.Chdir(repo)
	ta.mustRun(t, "init", "--branch", "trunk")
	proj, err := readProject(filepath.Join(repo, ProjectFile), "")
	if err != nil {
		t.Fatal(err)
	}
	if proj.Project.Repository != "ssh://github.com/acme/gadget" || proj.Project.DefaultBranch != "trunk" {
		t.Errorf("project %+v", proj.Project)
	}
	if _, err := os.Stat(filepath.Join(ta.env["XDG_CONFIG_HOME"], "hallmark", "keys", "gadget", "gate.key")); err != nil {
		t.Errorf("keys not under $XDG_CONFIG_HOME: %v", err)
	}
}
