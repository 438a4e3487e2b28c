package build_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	slsa "github.com/in-toto/attestation/go/predicates/provenance/v1"
	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/hallmark-dev/hallmark/build"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/provenance"
)

// The tests in this file check that the recorded facts describe the tree
// the build command actually ran on and the isolation it actually had, not
// the state at some other moment (issue #20 item 6 and its siblings).

// cleanRepo makes dir a git repository whose files (name -> content) are
// all committed, so the tree starts clean.
func cleanRepo(t *testing.T, files map[string]string) (dir string, gitc func(args ...string) string) {
	t.Helper()
	dir = t.TempDir()
	for name, c := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	home := t.TempDir()
	gitc = func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"}, args...)...)
		cmd.Dir = dir
		cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + home}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	gitc("init", "-q")
	gitc("add", ".")
	gitc("commit", "-q", "-m", "one")
	return dir, gitc
}

func runOff(t *testing.T, spec build.Spec) (*build.Result, error) {
	t.Helper()
	spec.LogFile = filepath.Join(t.TempDir(), "build.log")
	if spec.Sandbox == "" {
		spec.Sandbox = build.SandboxOff
	}
	if spec.Sandbox != build.SandboxOff {
		spec.SandboxHelper = helper(t)
	}
	return build.Run(t.Context(), spec)
}

// Attack: a networked, unsandboxed preparation step rewrites a tracked file;
// the provenance said dirty: false because git status ran before it.
func TestRunDirtyAfterPrepare(t *testing.T) {
	src, _ := cleanRepo(t, map[string]string{"main.txt": "committed\n"})
	res, err := runOff(t, build.Spec{
		Command: []string{"true"}, SourceDir: src,
		Prepare: [][]string{{"sh", "-c", "echo injected >> main.txt"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Source.Dirty {
		t.Error("a preparation step rewrote a tracked file, yet source.dirty is false")
	}
	st, err := provenance.Statement(withProduct(res.Facts("", "build.log")))
	if err != nil {
		t.Fatal(err)
	}
	if !provenance.Summarize(mustPredicate(t, st)).Dirty {
		t.Error("provenance records dirty: false")
	}

	// Without the rewrite the same build is clean.
	src2, _ := cleanRepo(t, map[string]string{"main.txt": "committed\n"})
	res, err = runOff(t, build.Spec{Command: []string{"true"}, SourceDir: src2, Prepare: [][]string{{"true"}}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Source.Dirty {
		t.Error("clean tree recorded dirty")
	}
}

// Attack: a preparation step checks out another commit; the provenance
// would name the commit that was not built.
func TestRunPrepareMovesCommit(t *testing.T) {
	src, gitc := cleanRepo(t, map[string]string{"main.txt": "one\n"})
	first := gitc("rev-parse", "HEAD")
	os.WriteFile(filepath.Join(src, "main.txt"), []byte("two\n"), 0o644)
	gitc("commit", "-q", "-am", "two")
	_, err := runOff(t, build.Spec{
		Command: []string{"true"}, SourceDir: src,
		Prepare: [][]string{{"git", "-c", "safe.directory=*", "-c", "advice.detachedHead=false", "checkout", "-q", first}},
	})
	if !errors.Is(err, build.ErrSourceChanged) {
		t.Fatalf("error = %v, want ErrSourceChanged", err)
	}
}

// Attack: an unsandboxed build rewrites a tracked source file before
// compiling it; nothing in the provenance said so.
func TestRunRecordsTrackedFilesModifiedByBuild(t *testing.T) {
	src, _ := cleanRepo(t, map[string]string{"main.txt": "committed\n", "gen/version.txt": "v1\n", "dist/keep": "tracked output\n"})
	res, err := runOff(t, build.Spec{
		Command:    []string{"sh", "-c", "echo v2 > gen/version.txt && rm main.txt && echo new > dist/keep && echo untracked > scratch"},
		SourceDir:  src,
		OutputDirs: []string{"dist"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Source.Dirty {
		t.Error("the tree was clean when the build started")
	}
	if d := cmp.Diff([]string{"gen/version.txt", "main.txt"}, res.Source.ModifiedByBuild); d != "" {
		t.Errorf("modifiedByBuild (-want +got):\n%s", d)
	}
	st, err := provenance.Statement(withProduct(res.Facts("", "build.log")))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"gen/version.txt", "main.txt"}, provenance.Summarize(mustPredicate(t, st)).ModifiedByBuild); d != "" {
		t.Errorf("provenance modifiedByBuild (-want +got):\n%s", d)
	}

	// A file already modified before the build and changed again by it.
	src2, _ := cleanRepo(t, map[string]string{"a.txt": "a\n"})
	os.WriteFile(filepath.Join(src2, "a.txt"), []byte("dirty\n"), 0o644)
	res, err = runOff(t, build.Spec{Command: []string{"sh", "-c", "echo again >> a.txt"}, SourceDir: src2})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Source.Dirty || !cmp.Equal([]string{"a.txt"}, res.Source.ModifiedByBuild) {
		t.Errorf("dirty %v modifiedByBuild %v, want true [a.txt]", res.Source.Dirty, res.Source.ModifiedByBuild)
	}
}

// Untracked leftovers in an output directory (a previous build's dist/) are
// not source and do not make the tree dirty; they make the output directory
// shared between builds.
func TestRunOutputLeftoversNotDirtyButShared(t *testing.T) {
	src, _ := cleanRepo(t, map[string]string{"main.txt": "x\n"})
	os.MkdirAll(filepath.Join(src, "dist"), 0o755)
	os.WriteFile(filepath.Join(src, "dist", "old"), []byte("previous build\n"), 0o644)
	cache := t.TempDir()
	res, err := runOff(t, build.Spec{
		Command: []string{"sh", "-c", "echo new > dist/app && echo new > out/app"}, SourceDir: src,
		OutputDirs: []string{"dist", "out"}, CacheDirs: []string{cache},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Source.Dirty {
		t.Error("untracked files in an output directory made the tree dirty")
	}
	if d := cmp.Diff([]string{"dist", cache}, res.Sandbox.SharedWritable); d != "" {
		t.Errorf("sharedWritable (-want +got):\n%s", d)
	}
	// An untracked file elsewhere still does.
	os.WriteFile(filepath.Join(src, "new.go"), []byte("package x\n"), 0o644)
	res, err = runOff(t, build.Spec{Command: []string{"true"}, SourceDir: src, OutputDirs: []string{"dist"}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Source.Dirty {
		t.Error("an untracked source file did not make the tree dirty")
	}
}

// Attack: a build with a writable cache shared between builds was recorded
// as isolated (sandbox applied, network off) with nothing naming the cache
// as shared, and so met SLSA Build L3.
func TestRunSandboxedRecordsSharedCache(t *testing.T) {
	src, _ := cleanRepo(t, map[string]string{"main.txt": "x\n"})
	cache := t.TempDir()
	res, err := runOff(t, build.Spec{
		Command: []string{"sh", "-c", "mkdir -p dist && echo hi > dist/app && echo poison > " + cache + "/entry"}, SourceDir: src,
		OutputDirs: []string{"dist"}, CacheDirs: []string{cache}, Sandbox: build.SandboxOn,
	})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{cache}, res.Sandbox.SharedWritable); d != "" {
		t.Errorf("sharedWritable (-want +got):\n%s", d)
	}
	st, err := provenance.Statement(res.Facts("", "build.log"))
	if err != nil {
		t.Fatal(err)
	}
	p := mustPredicate(t, st)
	sb := p.GetBuildDefinition().GetInternalParameters().AsMap()["sandbox"].(map[string]any)
	if d := cmp.Diff([]any{cache}, sb["sharedWritable"]); d != "" {
		t.Errorf("internalParameters.sandbox.sharedWritable (-want +got):\n%s", d)
	}
	if s := provenance.Summarize(p); !strings.Contains(s.Isolation, "shared writable") {
		t.Errorf("isolation summary %q does not mention the shared cache", s.Isolation)
	}
}

// Attack: an unsandboxed build rewrites a lockfile; the materials were read
// after the command ran, so they described the rewritten file while the
// dirHash described the original.
func TestRunMaterialsReadBeforeUnsandboxedBuild(t *testing.T) {
	const orig = "golang.org/x/sync v0.1.0 h1:wsuoTGHzEhffawBOhz5CYhcrV4IdKZbEyZjBMuTp12o=\n"
	const evil = "example.com/evil v6.6.6 h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
	src, _ := cleanRepo(t, map[string]string{"go.sum": orig})
	res, err := runOff(t, build.Spec{Command: []string{"sh", "-c", "printf '" + evil + "' > go.sum"}, SourceDir: src})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range res.Dependencies {
		got = append(got, d.PURL)
	}
	if d := cmp.Diff([]string{"pkg:golang/golang.org/x/sync@v0.1.0"}, got); d != "" {
		t.Errorf("dependencies (-want +got):\n%s", d)
	}
	if !cmp.Equal([]string{"go.sum"}, res.Source.ModifiedByBuild) {
		t.Errorf("modifiedByBuild = %v, want [go.sum]", res.Source.ModifiedByBuild)
	}
}

func mustPredicate(t *testing.T, st *intoto.Statement) *slsa.Provenance {
	t.Helper()
	raw, err := protojson.Marshal(st.GetPredicate())
	if err != nil {
		t.Fatal(err)
	}
	p, err := provenance.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func withProduct(f provenance.Facts) provenance.Facts {
	f.Products = append(f.Products, provenance.Artifact{Name: "x", Digest: map[string]string{"sha256": strings.Repeat("ab", 32)}})
	return f
}

// Attack: an unsandboxed build rewrites its own toolchain binary while it
// is being hashed; the recorded digest then named neither the tool that ran
// nor anything that exists. The tool is large, so hashing it takes longer
// than starting the command.
func TestRunToolchainHashedBeforeUnsandboxedBuild(t *testing.T) {
	src, _ := cleanRepo(t, map[string]string{"main.txt": "x\n"})
	bin := t.TempDir()
	tool := filepath.Join(bin, "bigtool")
	script := "#!/bin/sh\nprintf '#!/bin/sh\\nexit 0\\n' > \"$0\"\nexit 0\n# " + strings.Repeat("p", 64<<20) + "\n"
	if err := os.WriteFile(tool, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	want, err := digest.File(tool)
	if err != nil {
		t.Fatal(err)
	}
	res, err := runOff(t, build.Spec{Command: []string{"bigtool"}, SourceDir: src, Env: []string{"PATH=" + bin + ":/usr/bin:/bin"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range res.Toolchain {
		if a.Name == tool {
			if !a.Digest.Equal(want) {
				t.Errorf("toolchain %s recorded %v, want the digest of the tool that ran %v", tool, a.Digest, want)
			}
			return
		}
	}
	t.Errorf("toolchain %v does not list %s", res.Toolchain, tool)
}

// Attack: a tracked file is changed and hidden from git status with
// `git update-index --skip-worktree` (or --assume-unchanged), or deleted
// that way; the provenance said dirty: false.
func TestRunDirtyHiddenFromGitStatus(t *testing.T) {
	for _, tc := range []struct{ name, flag, change string }{
		{"skip-worktree edit", "--skip-worktree", "echo evil >> main.txt"},
		{"assume-unchanged edit", "--assume-unchanged", "echo evil >> main.txt"},
		{"skip-worktree delete", "--skip-worktree", "rm main.txt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, gitc := cleanRepo(t, map[string]string{"main.txt": "committed\n", "other.txt": "o\n"})
			gitc("update-index", tc.flag, "main.txt")
			res, err := runOff(t, build.Spec{Command: []string{"true"}, SourceDir: src,
				Prepare: [][]string{{"sh", "-c", tc.change}}})
			if err != nil {
				t.Fatal(err)
			}
			if !res.Source.Dirty {
				t.Error("a change hidden from git status left source.dirty false")
			}
		})
	}
	// A flagged file that is unchanged is not a change.
	src, gitc := cleanRepo(t, map[string]string{"main.txt": "committed\n"})
	gitc("update-index", "--assume-unchanged", "main.txt")
	res, err := runOff(t, build.Spec{Command: []string{"true"}, SourceDir: src})
	if err != nil {
		t.Fatal(err)
	}
	if res.Source.Dirty {
		t.Error("an unchanged assume-unchanged file made the tree dirty")
	}
}

// Attack: an untracked source file hidden from git status by
// .git/info/exclude (which the dirHash does not honour: the build reads the
// file) left dirty: false.
func TestRunDirtyUntrackedHiddenByInfoExclude(t *testing.T) {
	src, _ := cleanRepo(t, map[string]string{"main.txt": "x\n", ".gitignore": "ignored.log\n"})
	os.WriteFile(filepath.Join(src, ".git", "info", "exclude"), []byte("backdoor.go\n"), 0o644)
	os.WriteFile(filepath.Join(src, "backdoor.go"), []byte("package main\n"), 0o644)
	os.WriteFile(filepath.Join(src, "ignored.log"), []byte("log\n"), 0o644)
	res, err := runOff(t, build.Spec{Command: []string{"true"}, SourceDir: src})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Source.Dirty {
		t.Error("an untracked file hidden by .git/info/exclude left source.dirty false")
	}
	os.Remove(filepath.Join(src, "backdoor.go"))
	if res, err = runOff(t, build.Spec{Command: []string{"true"}, SourceDir: src}); err != nil {
		t.Fatal(err)
	}
	if res.Source.Dirty {
		t.Error("a file a .gitignore excludes made the tree dirty")
	}
}
