//go:build linux

package cli

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// asHallmarkEnv makes the test binary behave as the hallmark binary (see
// TestMain), so attack tests can run hallmark as a separate process with
// its own terminal and process group.
const asHallmarkEnv = "HALLMARK_TEST_RUN_AS_HALLMARK"

// attackC is the hostile build command. "tty" tries to inject a command
// line into the caller's terminal with TIOCSTI, through /dev/tty and
// through its standard descriptors; "kill" sends SIGTERM to its whole
// process group, which without a session of its own is the caller's.
const attackC = `#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "kill") == 0) {
		fflush(stdout);
		kill(0, SIGTERM);
		return 0;
	}
	int n = 0, fd = open("/dev/tty", O_RDWR);
	if (fd < 0) perror("open /dev/tty");
	const char *s = "echo INJECTED\n";
	for (int f = 0; f < 4; f++) {
		int t = f == 3 ? fd : f;
		if (t < 0) continue;
		for (const char *p = s; *p; p++)
			if (ioctl(t, TIOCSTI, p) == 0) n++;
	}
	printf("tiocsti wrote %d bytes\n", n);
	return 0;
}
`

// attackSource returns a source directory holding the compiled attack
// program as ./attack.
func attackSource(t *testing.T) string {
	t.Helper()
	cc, err := exec.LookPath("gcc")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("gcc is needed to compile the attack program")
		}
		t.Skip("gcc not installed: cannot compile the attack program")
	}
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "attack.c"), attackC)
	if out, err := exec.Command(cc, "-O", "-o", filepath.Join(src, "attack"), filepath.Join(src, "attack.c")).CombinedOutput(); err != nil {
		t.Fatalf("compile attack program: %v\n%s", err, out)
	}
	return src
}

// hallmarkProcess is the test binary run as hallmark in dir.
func hallmarkProcess(t *testing.T, dir string, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Dir = dir
	cmd.Env = []string{asHallmarkEnv + "=1", "PATH=/usr/bin:/bin", StoreEnv + "=" + filepath.Join(t.TempDir(), "store")}
	return cmd
}

// openPTY returns the controller and the terminal side of a new
// pseudo-terminal.
func openPTY(t *testing.T) (ctrl, term *os.File) {
	t.Helper()
	ctrl, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { ctrl.Close() })
	if err := unix.IoctlSetPointerInt(int(ctrl.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(ctrl.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	term, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { term.Close() })
	return ctrl, term
}

// TestAttackBuildInjectsIntoTerminal reproduces a build that types into
// the terminal hallmark was started from (TIOCSTI on /dev/tty): the
// injected line would run in the user's shell after hallmark exits.
// hallmark runs with a pseudo-terminal the test owns as its controlling
// terminal; no byte may reach that terminal's input, with or without the
// sandbox.
func TestAttackBuildInjectsIntoTerminal(t *testing.T) {
	src := attackSource(t)
	for _, mode := range []string{"on", "off"} {
		t.Run("sandbox "+mode, func(t *testing.T) {
			ctrl, term := openPTY(t)
			cmd := hallmarkProcess(t, src, "build", "--sandbox", mode, "--out", t.TempDir(), "--products", "attack", "--", "./attack", "tty")
			cmd.Stdin, cmd.Stdout, cmd.Stderr = term, term, term
			cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
			var (
				mu     sync.Mutex
				screen bytes.Buffer
				wg     sync.WaitGroup
			)
			wg.Go(func() {
				buf := make([]byte, 4096)
				for {
					n, err := ctrl.Read(buf)
					mu.Lock()
					screen.Write(buf[:n])
					mu.Unlock()
					if err != nil {
						return
					}
				}
			})
			if err := cmd.Run(); err != nil {
				t.Logf("hallmark: %v", err)
			}
			// Whatever was injected now waits in the terminal's input queue.
			fds := []unix.PollFd{{Fd: int32(term.Fd()), Events: unix.POLLIN}}
			if n, _ := unix.Poll(fds, 300); n > 0 {
				in := make([]byte, 256)
				k, _ := term.Read(in)
				t.Errorf("the build injected %q into the caller's terminal", in[:k])
			}
			time.Sleep(100 * time.Millisecond)
			term.Close()
			ctrl.Close()
			wg.Wait()
			mu.Lock()
			defer mu.Unlock()
			if strings.Contains(screen.String(), "echo INJECTED") {
				t.Errorf("the injected line was echoed on the caller's terminal:\n%s", screen.String())
			}
			if !strings.Contains(screen.String(), "tiocsti wrote 0 bytes") {
				t.Errorf("the attack program did not report 0 bytes injected:\n%s", screen.String())
			}
		})
	}
}

// TestAttackBuildSignalsCallerGroup reproduces a build (or repro build)
// that calls kill(0, SIGTERM): without a session of its own that signal
// reaches hallmark and every process of the caller's process group, such
// as the user's shell. A bystander in hallmark's process group must
// survive, and hallmark must report the build's failure, not be cancelled.
func TestAttackBuildSignalsCallerGroup(t *testing.T) {
	src := attackSource(t)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"build sandbox on", []string{"build", "--sandbox", "on", "--products", "attack", "--", "./attack", "kill"}},
		{"build sandbox off", []string{"build", "--sandbox", "off", "--products", "attack", "--", "./attack", "kill"}},
		{"repro", []string{"repro", "--runs", "2", "--", "./attack", "kill"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bystander := exec.Command("sleep", "30")
			bystander.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			if err := bystander.Start(); err != nil {
				t.Fatal(err)
			}
			var waitErr error
			exited := make(chan struct{})
			go func() { waitErr = bystander.Wait(); close(exited) }()
			t.Cleanup(func() { bystander.Process.Kill(); <-exited })

			args := tc.args
			if args[0] == "build" {
				args = append([]string{"build", "--out", t.TempDir()}, args[1:]...)
			}
			cmd := hallmarkProcess(t, src, args...)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pgid: bystander.Process.Pid}
			err := cmd.Run()
			t.Logf("hallmark: %v\n%s", err, out.String())
			if ee, ok := err.(*exec.ExitError); ok {
				if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
					t.Errorf("hallmark was killed by %v", ws.Signal())
				}
			}
			if strings.Contains(out.String(), "context canceled") {
				t.Error("hallmark received the build's SIGTERM and cancelled itself")
			}
			select {
			case <-exited:
				t.Errorf("a process in the caller's process group was killed: %v", waitErr)
			case <-time.After(200 * time.Millisecond):
			}
		})
	}
}
