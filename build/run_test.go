package build_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/build"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/provenance"
)

// Canary values: they must never reach the build nor any record.
const (
	canaryEnvToken = "canary-env-token-0b7e41"
	canaryShape    = "ghp_" + "CanaryShapeCanaryShapeCanary000001"
	canarySSH      = "canary-ssh-private-key-5d2c90"
	canaryAgent    = "/tmp/ssh-canary-agent-77a1/agent.1"
)

func helper(t *testing.T) []string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return []string{exe, initArg}
}

func goEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Skipf("go toolchain unavailable: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// copyTree copies src into dst (both directories).
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
}

// gitRepo turns dir into a git repository with one commit and an origin
// whose URL carries a credential that must not be recorded.
func gitRepo(t *testing.T, dir string) string {
	t.Helper()
	run := func(args ...string) string {
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"}, args...)...)
		cmd.Dir = dir
		cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir(), "GIT_COMMITTER_DATE=2026-01-02T03:04:05Z", "GIT_AUTHOR_DATE=2026-01-02T03:04:05Z"}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	run("init", "-q")
	run("add", ".")
	run("commit", "-q", "-m", "initial")
	run("remote", "add", "origin", "https://builder:"+canaryEnvToken+"@git.example.com/acme/hello.git")
	return run("rev-parse", "HEAD")
}

// fakeHome creates a caller home with a canary SSH key.
func fakeHome(t *testing.T) string {
	t.Helper()
	home := filepath.Join(t.TempDir(), "home")
	if err := os.MkdirAll(filepath.Join(home, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".ssh", "id_ed25519"), []byte(canarySSH), 0o600); err != nil {
		t.Fatal(err)
	}
	return home
}

// clock returns a fake clock advancing one second per call.
func clock() func() time.Time {
	t := time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)
	return func() time.Time { t = t.Add(time.Second); return t }
}

func assertNoCanary(t *testing.T, what string, data []byte, canaries ...string) {
	t.Helper()
	if len(canaries) == 0 {
		canaries = []string{canaryEnvToken, canaryShape, canarySSH, canaryAgent}
	}
	for _, c := range canaries {
		if bytes.Contains(data, []byte(c)) {
			t.Errorf("%s contains canary %q", what, c)
		}
	}
}

// TestRunGoProgramSandboxed builds the example program (two packages and a
// module dependency) in the sandbox, offline, with the module cache
// read-only, while canary secrets sit in the caller's environment and
// ~/.ssh. It checks the product, the recorded facts and the provenance.
func TestRunGoProgramSandboxed(t *testing.T) {
	modcache := goEnv(t, "GOMODCACHE")
	if _, err := os.Stat(filepath.Join(modcache, "golang.org/x/sync@v0.24.0")); err != nil {
		t.Skipf("golang.org/x/sync@v0.24.0 is not in the module cache %s (run go mod download in the repository)", modcache)
	}
	src := filepath.Join(t.TempDir(), "hello")
	copyTree(t, "testdata/hello", src)
	commit := gitRepo(t, src)
	home := fakeHome(t)
	callerEnv := []string{
		"PATH=" + filepath.Join(goEnv(t, "GOROOT"), "bin") + ":/usr/bin:/bin",
		"HOME=" + home,
		"HALLMARK_CANARY_TOKEN=" + canaryEnvToken,
		"NOTE=" + canaryShape,
		"SSH_AUTH_SOCK=" + canaryAgent,
		"BUILD_FLAVOR=plain",
		"GOFLAGS=-mod=mod",
	}
	script := fmt.Sprintf(`env; cat %s/.ssh/id_ed25519; ls -a "$HOME"; echo "sde=$SOURCE_DATE_EPOCH tz=$TZ lang=$LANG"; `+
		`go build -trimpath -o out/hello . && go list -m all`, home)
	logPath := filepath.Join(t.TempDir(), "build.log")
	// The caller's build cache keeps the test fast; it is a declared
	// writable cache directory, not a product.
	gocache := goEnv(t, "GOCACHE")
	res, err := build.Run(t.Context(), build.Spec{
		Command:       []string{"sh", "-c", script},
		SourceDir:     src,
		Env:           callerEnv,
		EnvAllowlist:  []string{"PATH", "NOTE", "BUILD_FLAVOR", "SSH_AUTH_SOCK"},
		SetEnv:        map[string]string{"GOCACHE": gocache, "GOFLAGS": "-mod=readonly", "CGO_ENABLED": "0"},
		OutputDirs:    []string{"out"},
		CacheDirs:     []string{gocache},
		GoModCache:    modcache,
		LogFile:       logPath,
		Sandbox:       build.SandboxOn,
		SandboxHelper: helper(t),
		Now:           clock(),
	})
	logData, _ := os.ReadFile(logPath)
	if err != nil {
		t.Fatalf("Run: %v\nlog:\n%s", err, logData)
	}

	// The product exists, runs, and its digest is what was recorded.
	bin := filepath.Join(src, "out", "hello")
	want, err := digest.File(bin)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := os.Stat(bin)
	if d := cmp.Diff([]build.Product{{Name: "out/hello", Digest: want, Size: info.Size()}}, res.Products); d != "" {
		t.Errorf("products mismatch (-want +got):\n%s", d)
	}
	out, err := exec.Command(bin).Output()
	if err != nil || !strings.Contains(string(out), "hello, sandbox") {
		t.Errorf("built program output %q, %v", out, err)
	}

	// What the build saw.
	log := string(logData)
	for _, s := range []string{"sde=1767323045 tz=UTC lang=C.UTF-8", "BUILD_FLAVOR=plain", "No such file or directory", "golang.org/x/sync v0.24.0"} {
		if !strings.Contains(log, s) {
			t.Errorf("log lacks %q:\n%s", s, log)
		}
	}
	if strings.Contains(log, "SSH_AUTH_SOCK") || strings.Contains(log, "HALLMARK_CANARY_TOKEN") {
		t.Errorf("the build saw a variable it must not:\n%s", log)
	}
	if !strings.Contains(log, "NOTE="+canaryShape) {
		t.Errorf("an explicitly allowlisted variable did not reach the build:\n%s", log)
	}
	logSum, _ := digest.File(logPath)
	if !logSum.Equal(res.Log.Digest) {
		t.Errorf("log digest %v, want %v", res.Log.Digest, logSum)
	}

	// What was recorded.
	if res.Source.Commit != commit || res.Source.Dirty || res.Source.URI != "git+https://git.example.com/acme/hello.git" {
		t.Errorf("source = %+v, want commit %s, clean, credential-free URI", res.Source, commit)
	}
	if !res.Sandbox.Applied || res.Sandbox.Network || !res.Sandbox.ReadOnlySource || !slices.Contains(res.Sandbox.Namespaces, "net") {
		t.Errorf("sandbox = %+v", res.Sandbox)
	}
	if !slices.Contains(res.Sandbox.ReadOnlyMounts, modcache) {
		t.Errorf("module cache not recorded as read-only mount: %+v", res.Sandbox)
	}
	if d := cmp.Diff([]string{"NOTE"}, res.Redacted); d != "" {
		t.Errorf("redacted (-want +got):\n%s", d)
	}
	if res.Env["GOPROXY"] != "off" || res.Env["BUILD_FLAVOR"] != "plain" || res.Env["SOURCE_DATE_EPOCH"] != "1767323045" {
		t.Errorf("recorded env = %v", res.Env)
	}
	if !res.StartedOn.Before(res.FinishedOn) {
		t.Errorf("startedOn %v not before finishedOn %v", res.StartedOn, res.FinishedOn)
	}
	foundDep := false
	for _, d := range res.Dependencies {
		if d.PURL == "pkg:golang/golang.org/x/sync@v0.24.0" && d.Digest[digest.DirHash] != "" && d.Origin == "go.sum" {
			foundDep = true
		}
	}
	if !foundDep {
		t.Errorf("go.sum dependency missing: %+v", res.Dependencies)
	}
	var tools []string
	for _, a := range res.Toolchain {
		tools = append(tools, filepath.Base(a.Name))
	}
	for _, want := range []string{"go", "compile", "link"} {
		if !slices.Contains(tools, want) {
			t.Errorf("toolchain %v lacks %s", tools, want)
		}
	}

	// Nothing recorded carries a canary.
	resJSON, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	assertNoCanary(t, "result", resJSON)
	// NOTE was explicitly allowlisted, so the build saw it (and printed it);
	// the other canaries never reached the build at all.
	assertNoCanary(t, "build log", logData, canaryEnvToken, canarySSH, canaryAgent)
	st, err := provenance.Statement(res.Facts("", "build.log"))
	if err != nil {
		t.Fatal(err)
	}
	stJSON, err := provenance.JSON(st)
	if err != nil {
		t.Fatal(err)
	}
	assertNoCanary(t, "provenance", stJSON)
	if !strings.Contains(string(stJSON), `"gitCommit":"`+commit+`"`) {
		t.Errorf("provenance lacks the gitCommit digest: %s", stJSON)
	}
}

func TestRunFailureHasNoResult(t *testing.T) {
	src := t.TempDir()
	for _, mode := range []build.SandboxMode{build.SandboxOff, build.SandboxOn} {
		t.Run(string(mode), func(t *testing.T) {
			res, err := build.Run(t.Context(), build.Spec{
				Command: []string{"sh", "-c", "echo failing; exit 3"}, SourceDir: src,
				LogFile: filepath.Join(t.TempDir(), "log"), Sandbox: mode, SandboxHelper: helper(t),
			})
			var ee *build.ExitError
			if !errors.As(err, &ee) || ee.Code != 3 || res != nil {
				t.Errorf("Run() = %v, %v; want nil and ExitError code 3", res, err)
			}
		})
	}
}

func TestRunSandboxProperties(t *testing.T) {
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
			c.Write([]byte("reached"))
			c.Close()
		}
	}()
	connect := fmt.Sprintf(`exec 3<>/dev/tcp/127.0.0.1/%d && cat <&3`, ln.Addr().(*net.TCPAddr).Port)
	tests := []struct {
		name    string
		script  string
		network bool
		fails   bool
	}{
		{"network connection fails", connect, false, true},
		{"network on reaches the listener", connect, true, false},
		{"source write fails", "echo tampered > main.txt", false, true},
		{"output dir is writable", "echo ok > out/x", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := t.TempDir()
			if err := os.WriteFile(filepath.Join(src, "main.txt"), []byte("original"), 0o644); err != nil {
				t.Fatal(err)
			}
			logPath := filepath.Join(t.TempDir(), "log")
			res, err := build.Run(t.Context(), build.Spec{
				Command: []string{"bash", "-c", tt.script}, SourceDir: src, OutputDirs: []string{"out"},
				LogFile: logPath, Sandbox: build.SandboxOn, Network: tt.network, SandboxHelper: helper(t),
			})
			logData, _ := os.ReadFile(logPath)
			var ee *build.ExitError
			if tt.fails != errors.As(err, &ee) {
				t.Fatalf("Run() error = %v, want failure %v; log:\n%s", err, tt.fails, logData)
			}
			if !tt.fails && res.Sandbox.Network != tt.network {
				t.Errorf("recorded network = %v, want %v", res.Sandbox.Network, tt.network)
			}
			if data, _ := os.ReadFile(filepath.Join(src, "main.txt")); string(data) != "original" {
				t.Errorf("source changed to %q", data)
			}
		})
	}
}

func TestRunSandboxFallback(t *testing.T) {
	src := t.TempDir()
	// A helper that never runs sandbox.InitMain stands in for a machine
	// without namespaces: the sandbox cannot be set up.
	spec := build.Spec{
		Command: []string{"sh", "-c", "mkdir -p out && echo built > out/app"}, SourceDir: src, OutputDirs: []string{"out"},
		SandboxHelper: []string{"/bin/true"},
	}
	t.Run("auto falls back and records it", func(t *testing.T) {
		s := spec
		s.Sandbox, s.LogFile = build.SandboxAuto, filepath.Join(t.TempDir(), "log")
		res, err := build.Run(t.Context(), s)
		if err != nil {
			t.Fatal(err)
		}
		if res.Sandbox.Applied || res.Sandbox.FallbackReason == "" || res.Sandbox.Requested != "auto" {
			t.Errorf("sandbox = %+v, want a recorded fallback", res.Sandbox)
		}
		st, err := provenance.Statement(res.Facts("", "log"))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := provenance.JSON(st)
		if !strings.Contains(string(b), `"fallbackReason"`) {
			t.Errorf("provenance does not record the fallback: %s", b)
		}
	})
	t.Run("on fails clearly", func(t *testing.T) {
		s := spec
		s.Sandbox, s.LogFile = build.SandboxOn, filepath.Join(t.TempDir(), "log")
		_, err := build.Run(t.Context(), s)
		if !errors.Is(err, build.ErrSandboxUnavailable) || !strings.Contains(err.Error(), "--sandbox") {
			t.Errorf("Run() error = %v, want ErrSandboxUnavailable naming the fix", err)
		}
	})
}

func TestRunProducts(t *testing.T) {
	src := t.TempDir()
	for rel, c := range map[string]string{"out/old.txt": "unchanged", "out/stale.txt": "to be rewritten", "dist/a.tar": "a", "dist/b.tar": "b", "README": "r"} {
		p := filepath.Join(src, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	script := `echo new > out/new.bin && echo changed > out/stale.txt && mkdir -p out/sub && echo deep > out/sub/d && ln -s ../README out/link`
	res, err := build.Run(t.Context(), build.Spec{
		Command: []string{"sh", "-c", script}, SourceDir: src, OutputDirs: []string{"out"}, Products: []string{"dist/*.tar"},
		LogFile: filepath.Join(t.TempDir(), "log"), Sandbox: build.SandboxOff,
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range res.Products {
		d, err := digest.File(filepath.Join(src, filepath.FromSlash(p.Name)))
		if err != nil || !d.Equal(p.Digest) {
			t.Errorf("product %s digest %v, file %v (%v)", p.Name, p.Digest, d, err)
		}
		got = append(got, p.Name)
	}
	if d := cmp.Diff([]string{"dist/a.tar", "dist/b.tar", "out/new.bin", "out/stale.txt", "out/sub/d"}, got); d != "" {
		t.Errorf("products (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"out/link"}, res.SkippedProducts); d != "" {
		t.Errorf("skipped (-want +got):\n%s", d)
	}

	_, err = build.Run(t.Context(), build.Spec{
		Command: []string{"true"}, SourceDir: src, Products: []string{"missing/*"},
		LogFile: filepath.Join(t.TempDir(), "log"), Sandbox: build.SandboxOff,
	})
	if !errors.Is(err, build.ErrNoProducts) {
		t.Errorf("unmatched glob: error = %v, want ErrNoProducts", err)
	}
}

func TestRunSpecErrors(t *testing.T) {
	src := t.TempDir()
	log := filepath.Join(src, "log")
	tests := []struct {
		name string
		spec build.Spec
		want error
	}{
		{"no command", build.Spec{SourceDir: src, LogFile: log}, build.ErrSpec},
		{"no log", build.Spec{Command: []string{"true"}, SourceDir: src}, build.ErrSpec},
		{"bad mode", build.Spec{Command: []string{"true"}, SourceDir: src, LogFile: log, Sandbox: "maybe"}, build.ErrSpec},
		{"no helper", build.Spec{Command: []string{"true"}, SourceDir: src, LogFile: log, Sandbox: build.SandboxOn}, build.ErrSpec},
		{"escaping output", build.Spec{Command: []string{"true"}, SourceDir: src, LogFile: log, OutputDirs: []string{"../x"}, Sandbox: build.SandboxOff}, build.ErrSpec},
		{"missing command", build.Spec{Command: []string{"no-such-command-xyz"}, SourceDir: src, LogFile: log, Sandbox: build.SandboxOff}, build.ErrCommandNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := build.Run(t.Context(), tt.spec); !errors.Is(err, tt.want) {
				t.Errorf("Run() error = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestRunHallmarkItselfSandboxed builds the hallmark binary itself
// (./cmd/hallmark, several hundred packages) from a git copy of this
// repository inside the sandbox, offline, with the module cache read-only.
func TestRunHallmarkItselfSandboxed(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a large module; skipped with -short")
	}
	modcache, gocache := goEnv(t, "GOMODCACHE"), goEnv(t, "GOCACHE")
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "hallmark")
	err = filepath.WalkDir(repo, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(repo, p)
		if d.Name() == ".git" || d.Name() == ".hallmark" || rel == filepath.Join("bench", "build", "out") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		dst := filepath.Join(src, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	commit := gitRepo(t, src)
	logPath := filepath.Join(t.TempDir(), "build.log")
	res, err := build.Run(t.Context(), build.Spec{
		Command:       []string{"go", "build", "-o", "out/hallmark", "./cmd/hallmark"},
		SourceDir:     src,
		Env:           []string{"PATH=" + filepath.Join(goEnv(t, "GOROOT"), "bin") + ":/usr/bin:/bin"},
		SetEnv:        map[string]string{"GOCACHE": gocache, "GOFLAGS": "-mod=readonly"},
		OutputDirs:    []string{"out"},
		CacheDirs:     []string{gocache},
		GoModCache:    modcache,
		LogFile:       logPath,
		Sandbox:       build.SandboxOn,
		SandboxHelper: helper(t),
		// Lockfiles in test fixtures are not dependencies of the build.
		MaterialExcludes: []string{"testdata/"},
	})
	if err != nil {
		logData, _ := os.ReadFile(logPath)
		t.Fatalf("Run: %v\nlog:\n%s", err, logData)
	}
	for _, dep := range res.Dependencies {
		if dep.Origin != "go.sum" {
			t.Errorf("dependency from an excluded fixture: %+v", dep)
		}
	}
	if len(res.Products) != 1 || res.Products[0].Name != "out/hallmark" {
		t.Fatalf("products = %+v", res.Products)
	}
	d, err := digest.File(filepath.Join(src, "out", "hallmark"))
	if err != nil || !d.Equal(res.Products[0].Digest) {
		t.Errorf("product digest %v, file %v (%v)", res.Products[0].Digest, d, err)
	}
	if res.Source.Commit != commit || !res.Sandbox.Applied || res.Sandbox.Network {
		t.Errorf("source %+v sandbox %+v", res.Source, res.Sandbox)
	}
	// The module's own go.sum pins every dependency it built with.
	n := 0
	for _, dep := range res.Dependencies {
		if dep.Origin == "go.sum" && strings.HasPrefix(dep.PURL, "pkg:golang/") {
			n++
		}
	}
	if n < 50 {
		t.Errorf("only %d go.sum dependencies recorded", n)
	}
	if _, err := provenance.Statement(res.Facts("", "build.log")); err != nil {
		t.Error(err)
	}
	// Its provenance signs and verifies, and names the binary that was built.
	st, err := provenance.Statement(res.Facts(provenance.DefaultBuilderID, "build.log"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := keys.Generate(keys.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := attest.Sign(t.Context(), key, st)
	if err != nil {
		t.Fatal(err)
	}
	v, err := attest.Verify(t.Context(), bundle, attest.NewKeySet(key.Public()))
	if err != nil {
		t.Fatalf("provenance of hallmark does not verify: %v", err)
	}
	if err := v.CheckArtifact("out/hallmark", d["sha256"]); err != nil {
		t.Error(err)
	}
}

// TestRunWithoutNamespaces runs builds where user namespaces really cannot
// be created (a parent user namespace with user.max_user_namespaces = 0):
// auto falls back and records why, on fails and names the fix.
func TestRunWithoutNamespaces(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"auto", "on"} {
		t.Run(mode, func(t *testing.T) {
			src := t.TempDir()
			cmd := exec.CommandContext(t.Context(), exe, noNamespacesArg, mode, src)
			cmd.SysProcAttr = &syscall.SysProcAttr{
				Cloneflags:  syscall.CLONE_NEWUSER,
				UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
				GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
			}
			out, err := cmd.Output()
			if err != nil {
				t.Skipf("cannot create the outer user namespace for this test: %v", err)
			}
			var got struct {
				Result *build.Result
				Error  string
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			switch mode {
			case "auto":
				if got.Error != "" || got.Result == nil {
					t.Fatalf("auto: error %q", got.Error)
				}
				sb := got.Result.Sandbox
				t.Logf("recorded fallback: %s", sb.FallbackReason)
				if sb.Applied || !strings.Contains(sb.FallbackReason, "namespaces unavailable") || !sb.Network {
					t.Errorf("auto: sandbox = %+v, want a recorded fallback", sb)
				}
				if len(got.Result.Products) != 1 {
					t.Errorf("auto: products = %+v", got.Result.Products)
				}
			case "on":
				if got.Result != nil || !strings.Contains(got.Error, "sandbox unavailable") || !strings.Contains(got.Error, "--sandbox auto") {
					t.Errorf("on: result %v, error %q; want a clear failure", got.Result, got.Error)
				}
			}
		})
	}
}

func TestRunRecordsExternalSymlinks(t *testing.T) {
	src := t.TempDir()
	outside := filepath.Join(t.TempDir(), "secret.txt")
	if err := os.WriteFile(outside, []byte("canary-outside-"+canarySSH), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(src, "escape")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("inside.txt", filepath.Join(src, "local")); err != nil {
		t.Fatal(err)
	}
	res, err := build.Run(t.Context(), build.Spec{
		Command: []string{"sh", "-c", "mkdir -p out && echo x > out/a"}, SourceDir: src, OutputDirs: []string{"out"},
		LogFile: filepath.Join(t.TempDir(), "log"), Sandbox: build.SandboxOff,
	})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"escape -> " + outside}, res.Source.ExternalSymlinks); d != "" {
		t.Errorf("external symlinks (-want +got):\n%s", d)
	}
	st, err := provenance.Statement(res.Facts("", "log"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := provenance.JSON(st)
	if !strings.Contains(string(b), "externalSymlinks") {
		t.Errorf("provenance lacks externalSymlinks: %s", b)
	}
	assertNoCanary(t, "provenance", b)
}

// TestFixtureLockfilesAreNotMaterials: a lockfile under testdata/ or
// node_modules/ is not a build input. Building examples/hello recorded 1,740
// "dependencies" read from test fixtures across the repository.
func TestFixtureLockfilesAreNotMaterials(t *testing.T) {
	src := t.TempDir()
	sum, err := os.ReadFile("materials/testdata/go.sum")
	if err != nil {
		t.Fatal(err)
	}
	cargo, err := os.ReadFile("materials/testdata/Cargo.lock")
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"go.sum":                               sum,
		"testdata/fixture/Cargo.lock":          cargo,
		"web/node_modules/left-pad/Cargo.lock": cargo,
		"tools/generator/Cargo.lock":           cargo,
	} {
		p := filepath.Join(src, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res, err := build.Run(t.Context(), build.Spec{
		Command: []string{"sh", "-c", "mkdir -p out && echo hi > out/x"}, SourceDir: src, OutputDirs: []string{"out"},
		LogFile: filepath.Join(t.TempDir(), "log"), Sandbox: build.SandboxOff,
	})
	if err != nil {
		t.Fatal(err)
	}
	origins := map[string]bool{}
	for _, d := range res.Dependencies {
		origins[d.Origin] = true
	}
	want := map[string]bool{"go.sum": true, "tools/generator/Cargo.lock": true}
	if d := cmp.Diff(want, origins); d != "" {
		t.Errorf("lockfiles read as materials (-want +got):\n%s", d)
	}
}
