//go:build unix

package sandbox

import (
	"context"
	"errors"
	"os/exec"
	"syscall"
	"time"
)

// leftoverWait bounds how long RunDetached waits for the output pipes once
// the command itself has exited: a background process it left behind may
// hold them open.
const leftoverWait = 2 * time.Second

// Command returns a command for argv that runs detached from the caller:
// in a new session (so it has no controlling terminal, cannot open the
// caller's /dev/tty and cannot inject keystrokes into it with TIOCSTI) and
// therefore in a new process group of its own (so kill(0, sig) reaches only
// the command and its children, never the caller or its shell). Standard
// input is /dev/null unless the caller sets Stdin. When ctx ends the whole
// process group is killed, not only the direct child. Run it with
// [RunDetached]. The sandboxed [Run] applies the same rules to its helper.
func Command(ctx context.Context, argv []string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Cancel = func() error { return killGroup(cmd) }
	cmd.WaitDelay = leftoverWait
	return cmd
}

// RunDetached starts a command made by [Command], waits for it and then
// kills whatever is left of its process group, so that background
// processes the command started cannot change its outputs after they were
// hashed. Processes that left the group (by starting their own session)
// are out of reach without the sandbox's PID namespace.
func RunDetached(cmd *exec.Cmd) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	err := cmd.Wait()
	_ = killGroup(cmd)
	if errors.Is(err, exec.ErrWaitDelay) {
		// The command succeeded; a leftover process held its output open.
		return nil
	}
	return err
}

func killGroup(cmd *exec.Cmd) error {
	if cmd.Process == nil || cmd.Process.Pid <= 0 {
		return nil
	}
	// The command is the leader of its own session and process group, so
	// its process group ID is its PID.
	err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}
