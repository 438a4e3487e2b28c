package gitexec

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
)

// Env is the complete environment git runs with: a fixed PATH, no system
// or user configuration (GIT_CONFIG_NOSYSTEM, a HOME that does not exist),
// never a prompt on the terminal for credentials (GIT_TERMINAL_PROMPT=0;
// no GIT_ASKPASS or SSH_ASKPASS is passed on), and the C locale, so that
// the output parsed is the same everywhere.
var Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "GIT_CONFIG_NOSYSTEM=1", "HOME=/nonexistent", "GIT_TERMINAL_PROMPT=0", "LC_ALL=C"}

// settings come before every git subcommand: any directory is accepted as
// safe (the caller chose it), and the repository's configuration can
// neither run an fsmonitor hook nor answer from the untracked cache.
var settings = []string{"-c", "safe.directory=*", "-c", "core.fsmonitor=false", "-c", "core.untrackedCache=false"}

// Raw runs git with args in dir and returns its standard output as it is.
// The error names the subcommand and carries git's standard error.
func Raw(ctx context.Context, dir string, args ...string) (string, error) {
	argv := slices.Concat(settings, []string{"-C", dir}, args)
	cmd := exec.CommandContext(ctx, "git", argv...)
	cmd.Env = slices.Clone(Env)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// Output is Raw with surrounding white space trimmed.
func Output(ctx context.Context, dir string, args ...string) (string, error) {
	out, err := Raw(ctx, dir, args...)
	return strings.TrimSpace(out), err
}

// Toplevel returns the top of the git work tree that holds dir, or dir
// itself when it is not inside one (or git is not installed).
func Toplevel(ctx context.Context, dir string) string {
	top, err := Output(ctx, dir, "rev-parse", "--show-toplevel")
	if err != nil || top == "" {
		return dir
	}
	return top
}
