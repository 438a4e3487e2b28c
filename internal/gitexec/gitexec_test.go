package gitexec_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/internal/gitexec"
)

func needGit(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
}

// repo makes a git repository with one commit in a new directory.
func repo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, args := range [][]string{
		{"init", "-q", "-b", "main"},
		{"-c", "user.name=Test", "-c", "user.email=test@example.com", "commit", "-q", "--allow-empty", "-m", "first"},
	} {
		if _, err := gitexec.Output(t.Context(), dir, args...); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestRepositoryHookDoesNotRun: a repository's own configuration names an
// fsmonitor hook, which plain git runs on `git status`. The CLI's
// rebuild ran `git status` this way before its git runner was this one
// (issue 17.5), executing a command the checkout chose.
func TestRepositoryHookDoesNotRun(t *testing.T) {
	needGit(t)
	dir := repo(t)
	marker := filepath.Join(t.TempDir(), "hook-ran")
	hook := filepath.Join(t.TempDir(), "hook")
	if err := os.WriteFile(hook, []byte("#!/bin/sh\ntouch "+marker+"\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := gitexec.Output(t.Context(), dir, "config", "core.fsmonitor", hook); err != nil {
		t.Fatal(err)
	}
	// The hook is live: git without the runner's settings runs it.
	plain := exec.CommandContext(t.Context(), "git", "-C", dir, "status", "--porcelain")
	plain.Env = gitexec.Env
	if out, err := plain.CombinedOutput(); err != nil {
		t.Fatalf("plain git status: %v\n%s", err, out)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Skipf("this git does not run core.fsmonitor hooks (%v): the test would prove nothing", err)
	}
	if err := os.Remove(marker); err != nil {
		t.Fatal(err)
	}
	if _, err := gitexec.Output(t.Context(), dir, "status", "--porcelain"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("git status through gitexec ran the repository's fsmonitor hook")
	}
}

// TestNoCredentialPrompt: a remote that asks for credentials makes git
// fail at once, saying prompts are disabled, instead of trying the
// terminal (two of three git runners lacked GIT_TERMINAL_PROMPT=0).
func TestNoCredentialPrompt(t *testing.T) {
	needGit(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Basic realm="private"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	_, err := gitexec.Output(t.Context(), t.TempDir(), "ls-remote", srv.URL+"/private.git")
	if err == nil {
		t.Fatal("ls-remote of a remote that wants credentials succeeded")
	}
	if !strings.Contains(err.Error(), "terminal prompts disabled") {
		t.Errorf("error %q does not say terminal prompts are disabled", err)
	}
}

// TestEnvironment: git sees the fixed environment only, not the caller's.
func TestEnvironment(t *testing.T) {
	needGit(t)
	t.Setenv("GIT_ASKPASS", "/bin/false")
	t.Setenv("HALLMARK_SECRET", "s3cret")
	out, err := gitexec.Output(t.Context(), t.TempDir(), "-c", "alias.show-env=!env", "show-env")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"GIT_TERMINAL_PROMPT=0", "LC_ALL=C", "HOME=/nonexistent", "GIT_CONFIG_NOSYSTEM=1"} {
		if !strings.Contains(out, want+"\n") && !strings.HasSuffix(out, want) {
			t.Errorf("git's environment lacks %s:\n%s", want, out)
		}
	}
	for _, leak := range []string{"GIT_ASKPASS", "HALLMARK_SECRET"} {
		if strings.Contains(out, leak) {
			t.Errorf("git's environment has the caller's %s:\n%s", leak, out)
		}
	}
}

func TestToplevel(t *testing.T) {
	needGit(t)
	dir := repo(t)
	sub := filepath.Join(dir, "a", "b")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	want, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := gitexec.Toplevel(t.Context(), sub); got != want {
		t.Errorf("Toplevel(%s) = %s, want %s", sub, got, want)
	}
	outside := t.TempDir()
	if got := gitexec.Toplevel(t.Context(), outside); got != outside {
		t.Errorf("Toplevel outside a work tree = %s, want %s", got, outside)
	}
}
