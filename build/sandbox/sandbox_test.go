package sandbox_test

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/build/sandbox"
)

// run executes a shell script in the sandbox and returns its exit code and
// combined output.
func run(t *testing.T, cfg sandbox.Config, script string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	cfg.Helper = helper(t)
	cfg.Argv = []string{"/bin/sh", "-c", script}
	if cfg.Env == nil {
		cfg.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + sandbox.Home}
	}
	cfg.Stdout, cfg.Stderr = &out, &out
	code, err := sandbox.Run(t.Context(), cfg)
	if err != nil {
		t.Fatalf("sandbox.Run: %v\noutput:\n%s", err, out.String())
	}
	return code, out.String()
}

func source(t *testing.T) (string, string) {
	t.Helper()
	src := filepath.Join(t.TempDir(), "src")
	out := filepath.Join(src, "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "main.c"), []byte("int main(){return 0;}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return src, out
}

func TestIsolation(t *testing.T) {
	src, out := source(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("reached\n"))
			c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port

	// A fake home with a canary key; it must not be visible inside.
	home := filepath.Join(t.TempDir(), "home")
	const canary = "CANARY-ssh-key-7f3a9c"
	if err := os.MkdirAll(filepath.Join(home, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".ssh", "id_ed25519"), []byte(canary), 0o600); err != nil {
		t.Fatal(err)
	}

	cfg := sandbox.Config{Dir: src, SourceDir: src, WritableDirs: []string{out}}
	tests := []struct {
		name     string
		network  bool
		script   string
		wantCode int
		want     string
		notWant  string
	}{
		{name: "network connection fails", script: fmt.Sprintf(`exec 3<>/dev/tcp/127.0.0.1/%d && cat <&3`, port), notWant: "reached",
			want: "Network is unreachable", wantCode: -1},
		{name: "network allowed reaches listener", network: true, script: fmt.Sprintf(`/usr/bin/bash -c 'exec 3<>/dev/tcp/127.0.0.1/%d && cat <&3'`, port), want: "reached"},
		{name: "source write fails", script: `echo x > main.c`, wantCode: -1},
		{name: "source create fails", script: `touch new-file`, wantCode: -1},
		{name: "output dir writable", script: `echo built > out/app && cat out/app`, want: "built"},
		{name: "home is empty tmpfs", script: `ls -A "$HOME" | wc -l; touch "$HOME/x" && echo home-ok`, want: "0\nhome-ok"},
		{name: "caller home invisible", script: fmt.Sprintf(`cat %s/.ssh/id_ed25519; ls %s`, home, home), wantCode: -1, notWant: canary},
		{name: "pid namespace", script: `echo "pid=$$"; test "$(ls /proc | grep -c '^[0-9]')" -lt 5 && echo few-processes`, want: "pid=1\nfew-processes"},
		{name: "uts namespace", script: `cat /proc/sys/kernel/hostname`, want: sandbox.Hostname},
		{name: "no capabilities", script: `grep CapEff /proc/self/status`, want: "0000000000000000"},
		{name: "remount denied", script: fmt.Sprintf(`mount -o remount,rw %s`, src), wantCode: -1},
		// Own session (the shell, PID 1, leads it), no controlling
		// terminal and no /dev/tty: nothing reaches the caller's terminal.
		{name: "own session without terminal", script: `read -r _ _ _ _ _ sid tty _ < /proc/self/stat; echo "sid=$sid tty=$tty"; test -e /dev/tty && echo dev-tty || echo no-dev-tty`,
			want: "sid=1 tty=0\nno-dev-tty"},
		{name: "etc shadow hidden", script: `test -e /etc/shadow && echo visible || echo hidden`, want: "hidden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cfg
			c.Network = tt.network
			script := tt.script
			if strings.Contains(script, "/dev/tcp") && !tt.network {
				script = "/usr/bin/bash -c '" + strings.ReplaceAll(script, "'", `'\''`) + "'"
			}
			code, output := run(t, c, script)
			t.Logf("exit %d, output:\n%s", code, output)
			switch {
			case tt.wantCode == -1 && code == 0:
				t.Errorf("exit code 0, want failure; output:\n%s", output)
			case tt.wantCode >= 0 && code != tt.wantCode:
				t.Errorf("exit code %d, want %d; output:\n%s", code, tt.wantCode, output)
			}
			if tt.want != "" && !strings.Contains(output, tt.want) {
				t.Errorf("output %q does not contain %q", output, tt.want)
			}
			if tt.notWant != "" && strings.Contains(output, tt.notWant) {
				t.Errorf("output %q contains %q", output, tt.notWant)
			}
		})
	}
	data, err := os.ReadFile(filepath.Join(src, "main.c"))
	if err != nil || string(data) != "int main(){return 0;}\n" {
		t.Errorf("source file changed: %q, %v", data, err)
	}
}

func TestSetupErrors(t *testing.T) {
	src, _ := source(t)
	tests := []struct {
		name string
		cfg  sandbox.Config
		want error
	}{
		{"no helper", sandbox.Config{Argv: []string{"/bin/true"}, Dir: src, SourceDir: src}, sandbox.ErrConfig},
		{"relative command", sandbox.Config{Helper: helper(t), Argv: []string{"true"}, Dir: src, SourceDir: src}, sandbox.ErrConfig},
		{"missing dir", sandbox.Config{Helper: helper(t), Argv: []string{"/bin/true"}, Dir: src + "/nope", SourceDir: src}, sandbox.ErrConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := sandbox.Run(t.Context(), tt.cfg); !errors.Is(err, tt.want) {
				t.Errorf("Run() error = %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("exec failure is a setup error", func(t *testing.T) {
		cfg := sandbox.Config{Helper: helper(t), Argv: []string{src + "/main.c"}, Dir: src, SourceDir: src}
		_, err := sandbox.Run(t.Context(), cfg)
		var se *sandbox.SetupError
		if !errors.As(err, &se) {
			t.Errorf("Run() error = %v, want *SetupError", err)
		}
	})
}

func TestHelperWithoutInit(t *testing.T) {
	src, _ := source(t)
	cfg := sandbox.Config{Helper: []string{"/bin/true"}, Argv: []string{"/bin/true"}, Dir: src, SourceDir: src}
	_, err := sandbox.Run(t.Context(), cfg)
	if !errors.Is(err, sandbox.ErrUnsupported) {
		t.Errorf("Run() error = %v, want ErrUnsupported", err)
	}
}
