//go:build linux

package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
)

// Run starts the command in the sandbox and waits for it. It returns the
// command's exit code; a non-nil error is a *SetupError when the sandbox
// could not be created (the command never ran), or another error when the
// command could not be waited for.
func Run(ctx context.Context, cfg Config) (int, error) {
	if err := cfg.validate(); err != nil {
		return -1, err
	}
	if cfg.Root == "" {
		dir, err := os.MkdirTemp("", "hallmark-sandbox-")
		if err != nil {
			return -1, &SetupError{Step: "create root directory", Err: err}
		}
		defer os.Remove(dir)
		cfg.Root = dir
	}
	cfgR, cfgW, err := os.Pipe()
	if err != nil {
		return -1, &SetupError{Step: "pipe", Err: err}
	}
	defer cfgR.Close()
	defer cfgW.Close()
	statR, statW, err := os.Pipe()
	if err != nil {
		return -1, &SetupError{Step: "pipe", Err: err}
	}
	defer statR.Close()
	defer statW.Close()

	flags := uintptr(syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS | syscall.CLONE_NEWPID |
		syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC)
	if !cfg.Network {
		flags |= syscall.CLONE_NEWNET
	}
	cmd := exec.CommandContext(ctx, cfg.Helper[0], cfg.Helper[1:]...)
	cmd.Env = cfg.Env
	cmd.Stdout, cmd.Stderr = cfg.Stdout, cfg.Stderr
	cmd.ExtraFiles = []*os.File{cfgR, statW} // fd 3 and fd 4 in the helper
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:                 flags,
		UidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
		GidMappingsEnableSetgroups: false,
		Pdeathsig:                  syscall.SIGKILL,
		// A new session: the build has no controlling terminal (no
		// /dev/tty, no TIOCSTI into the caller's shell) and its own
		// process group (kill(0, sig) cannot reach the caller). Its
		// output reaches the user only through the pipes Run copies.
		Setsid: true,
	}
	if err := cmd.Start(); err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EACCES) {
			err = fmt.Errorf("%w: %w", ErrUnsupported, err)
		}
		return -1, &SetupError{Step: "create namespaces", Err: err}
	}
	cfgR.Close()
	statW.Close()
	enc := json.NewEncoder(cfgW)
	werr := enc.Encode(cfg)
	cfgW.Close()
	// The helper closes the status pipe by exec'ing the command, or writes
	// why it could not before exiting.
	msg, _ := io.ReadAll(io.LimitReader(statR, 64<<10))
	waitErr := cmd.Wait()
	ready := len(msg) > 0 && msg[0] == readyByte
	if ready {
		msg = msg[1:]
	}
	if len(msg) > 0 {
		step, detail, _ := strings.Cut(string(msg), ": ")
		return -1, &SetupError{Step: step, Err: errors.New(detail)}
	}
	if !ready {
		return -1, &SetupError{Step: "start helper", Err: fmt.Errorf("%w: %q exited (%v) without running sandbox.InitMain", ErrUnsupported, cfg.Helper, waitErr)}
	}
	if werr != nil {
		return -1, &SetupError{Step: "send configuration", Err: werr}
	}
	if waitErr != nil {
		var ee *exec.ExitError
		if errors.As(waitErr, &ee) {
			if ctx.Err() != nil {
				return ee.ExitCode(), ctx.Err()
			}
			return ee.ExitCode(), nil
		}
		return -1, waitErr
	}
	return 0, nil
}
