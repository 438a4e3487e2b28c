package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/repro"
	"github.com/hallmark-dev/hallmark/store"
)

// git runs git in dir with a fixed identity and clock, away from the
// user's configuration.
func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "git", append([]string{"-C", dir}, args...)...)
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + dir, "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=Test", "GIT_AUTHOR_EMAIL=test@example.com", "GIT_AUTHOR_DATE=2026-01-02T03:04:05Z",
		"GIT_COMMITTER_NAME=Test", "GIT_COMMITTER_EMAIL=test@example.com", "GIT_COMMITTER_DATE=2026-01-02T03:04:05Z"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// rebuildFixture is a builder's repository with one commit, a clone of it
// for the rebuilder, and keys for both.
type rebuildFixture struct {
	ta                       *testApp
	repo, clone, keyDir, out string
}

func newRebuildFixture(t *testing.T) *rebuildFixture {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	fx := &rebuildFixture{ta: newTestApp(t), repo: t.TempDir(), keyDir: t.TempDir(), out: t.TempDir()}
	fx.ta.env["PATH"] = "/usr/bin:/bin"
	for _, k := range []string{"builder", "rebuilder", "stranger"} {
		fx.ta.mustRun(t, "keygen", filepath.Join(fx.keyDir, k))
	}
	gitIn(t, fx.repo, "init", "-q", "-b", "main")
	writeFile(t, filepath.Join(fx.repo, ".gitignore"), "out.txt\n")
	writeFile(t, filepath.Join(fx.repo, "input.txt"), "hello from the source\n")
	writeFile(t, filepath.Join(fx.repo, "build.sh"), "cat input.txt > out.txt\necho \"built at $SOURCE_DATE_EPOCH\" >> out.txt\n")
	gitIn(t, fx.repo, "add", ".")
	gitIn(t, fx.repo, "commit", "-q", "-m", "deterministic build")
	fx.clone = filepath.Join(t.TempDir(), "clone")
	gitIn(t, filepath.Dir(fx.clone), "clone", "-q", fx.repo, fx.clone)
	return fx
}

func (fx *rebuildFixture) key(name string) string { return filepath.Join(fx.keyDir, name) }

// build runs 'hallmark build' in the builder's repository and returns the
// provenance bundle.
func (fx *rebuildFixture) build(t *testing.T, name string) string {
	t.Helper()
	t.Chdir(fx.repo)
	out := filepath.Join(fx.out, name)
	fx.ta.mustRun(t, "build", "--sandbox", "off", "--key", fx.key("builder")+".key", "--out", out, "--products", "out.txt", "--", "sh", "build.sh")
	return filepath.Join(out, "provenance.bundle.json")
}

// rebuild runs 'hallmark rebuild' in the clone and returns the exit code.
func (fx *rebuildFixture) rebuild(t *testing.T, args ...string) int {
	t.Helper()
	t.Chdir(fx.clone)
	return fx.ta.run(append([]string{"rebuild", "--key", fx.key("rebuilder") + ".key"}, args...)...)
}

// stored returns the reproducibility predicates stored about digest,
// verified against the rebuilder's key.
func (fx *rebuildFixture) stored(t *testing.T, sha string) []repro.Predicate {
	t.Helper()
	s, err := fx.ta.openStore(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	recs, err := s.List(t.Context(), store.Query{Subject: digest.MustParse("sha256:" + sha), PredicateType: repro.PredicateType})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := keys.LoadPublicKeyFile(fx.key("rebuilder") + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	var out []repro.Predicate
	for _, r := range recs {
		v, err := attest.Verify(t.Context(), r.Bundle, attest.NewKeySet(pub))
		if err != nil {
			t.Fatalf("stored rebuild %s: %v", r.ID, err)
		}
		var p repro.Predicate
		if err := v.DecodePredicate(&p); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func TestRebuildReproducible(t *testing.T) {
	fx := newRebuildFixture(t)
	ta := fx.ta
	bundle := fx.build(t, "p1")
	want := fileSHA256(t, filepath.Join(fx.repo, "out.txt"))
	commit := gitIn(t, fx.repo, "rev-parse", "HEAD")
	rbOut := filepath.Join(fx.out, "rebuild1")

	// Default --sandbox auto: out.txt lies at the source root, which the
	// sandbox keeps read-only, so the rebuild falls back and says so.
	if code := fx.rebuild(t, "--bundle", bundle, "--builder-key", fx.key("builder")+".pub", "--out", rbOut); code != 0 {
		t.Fatalf("rebuild: exit %d\n%s\n%s", code, ta.out, ta.errOut)
	}
	if !strings.Contains(ta.out.String(), "ok       out.txt sha256:"+want) || !strings.Contains(ta.errOut.String(), "running without the sandbox") {
		t.Errorf("rebuild output:\n%s\n%s", ta.out, ta.errOut)
	}
	if got := fileSHA256(t, filepath.Join(rbOut, "products", "out.txt")); got != want {
		t.Errorf("the kept rebuilt out.txt is %s, want %s", got, want)
	}
	preds := fx.stored(t, want)
	if len(preds) != 1 {
		t.Fatalf("stored %d rebuilds about sha256:%s, want 1", len(preds), want)
	}
	p := preds[0]
	rebuilderPub, err := keys.LoadPublicKeyFile(fx.key("rebuilder") + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]repro.ProductResult{{
		Name: "out.txt", Digest: map[string]string{"sha256": want}, RunDigests: []string{want},
		Expected: map[string]string{"sha256": want}, Reproducible: true,
	}}, p.Products); diff != "" {
		t.Errorf("products (-want +got):\n%s", diff)
	}
	if p.Result != repro.OutcomeReproducible || p.Runs != 1 || p.Rebuilder.ID != "https://hallmark.dev/rebuilder/key/"+rebuilderPub.ID() ||
		p.Source == nil || p.Source.Digest["gitCommit"] != commit || strings.Join(p.Command, " ") != "sh build.sh" {
		t.Errorf("predicate: %+v", p)
	}

	// The written bundle is the stored one: its subject is the original.
	raw, err := os.ReadFile(filepath.Join(rbOut, "rebuild.bundle.json"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := attest.Verify(t.Context(), raw, attest.NewKeySet(rebuilderPub))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]attest.Subject{{Name: "out.txt", Digest: map[string]string{"sha256": want}}}, v.Subjects()); diff != "" {
		t.Errorf("subjects (-want +got):\n%s", diff)
	}

	// A trust file naming the builder key as builder works like
	// --builder-key; naming it only as rebuilder does not.
	for _, tc := range []struct {
		role string
		want int
	}{{"builder", 0}, {"rebuilder", ExitRejected}} {
		t.Run("trust role "+tc.role, func(t *testing.T) {
			tf := writeFile(t, filepath.Join(t.TempDir(), "trust.yaml"),
				"version: 1\nkeys:\n  - name: ci\n    publicKey: "+fx.key("builder")+".pub\n    roles: ["+tc.role+"]\n")
			if code := fx.rebuild(t, "--bundle", bundle, "--trust", tf, "--sandbox", "off", "--rebuilder-id", "https://rebuild.example.org/w1", "--out", t.TempDir()); code != tc.want {
				t.Errorf("exit %d, want %d\n%s", code, tc.want, ta.errOut)
			}
		})
	}
	if n := len(fx.stored(t, want)); n != 2 {
		t.Errorf("%d rebuilds stored after the trust-file runs, want 2", n)
	}

	// With the default --out and store, both inside the checkout, hallmark's
	// own files do not make the next rebuild look dirty.
	ta.env[StoreEnv] = ""
	for i := range 2 {
		if code := fx.rebuild(t, "--bundle", bundle, "--builder-key", fx.key("builder")+".pub", "--sandbox", "off"); code != 0 {
			t.Fatalf("rebuild %d with default paths: exit %d\n%s", i+1, code, ta.errOut)
		}
	}
	if _, err := os.Stat(filepath.Join(fx.clone, DefaultStoreDir, "rebuild", "rebuild.bundle.json")); err != nil {
		t.Errorf("default --out: %v", err)
	}
}

func TestRebuildNotReproducible(t *testing.T) {
	fx := newRebuildFixture(t)
	ta := fx.ta
	first := fx.build(t, "p1")
	writeFile(t, filepath.Join(fx.repo, "build.sh"), "date +%s%N > out.txt\n")
	gitIn(t, fx.repo, "commit", "-q", "-am", "build embeds the time")
	bundle := fx.build(t, "p2")
	want := fileSHA256(t, filepath.Join(fx.repo, "out.txt"))
	builderPub := fx.key("builder") + ".pub"

	// The clone does not have the second commit yet.
	if code := fx.rebuild(t, "--bundle", bundle, "--builder-key", builderPub, "--sandbox", "off", "--out", t.TempDir()); code != ExitEnvironment {
		t.Errorf("commit missing: exit %d, want %d\n%s", code, ExitEnvironment, ta.errOut)
	}
	if !strings.Contains(ta.errOut.String(), "fetch it first") {
		t.Errorf("commit missing message: %s", ta.errOut)
	}
	gitIn(t, fx.clone, "fetch", "-q")

	if code := fx.rebuild(t, "--bundle", bundle, "--builder-key", fx.key("stranger")+".pub", "--sandbox", "off", "--out", t.TempDir()); code != ExitRejected {
		t.Errorf("wrong builder key: exit %d, want %d\n%s", code, ExitRejected, ta.errOut)
	}
	if !strings.Contains(ta.errOut.String(), "untrusted key") {
		t.Errorf("wrong builder key message: %s", ta.errOut)
	}

	if n := len(fx.stored(t, want)); n != 0 {
		t.Fatalf("%d rebuilds stored by refused runs", n)
	}

	// The clone is at the first commit and has a stray file: the rebuild
	// runs in a clean checkout of the recorded commit all the same.
	writeFile(t, filepath.Join(fx.clone, "stray.txt"), "not committed")
	if code := fx.rebuild(t, "--bundle", bundle, "--builder-key", builderPub, "--sandbox", "off", "--out", t.TempDir()); code != ExitRejected {
		t.Fatalf("non-deterministic rebuild: exit %d, want %d\n%s\n%s", code, ExitRejected, ta.out, ta.errOut)
	}
	_, rest, _ := strings.Cut(ta.out.String(), "DIFFERS  out.txt rebuilt sha256:")
	got, _, _ := strings.Cut(rest, ",")
	if len(got) != 64 || got == want {
		t.Fatalf("rebuilt digest %q (expected %s):\n%s", got, want, ta.out)
	}
	if _, err := os.Stat(filepath.Join(fx.clone, "out.txt")); err == nil {
		t.Errorf("the rebuild wrote out.txt into the checkout, not into a clean one")
	}
	preds := fx.stored(t, want)
	if len(preds) != 1 {
		t.Fatalf("stored %d rebuilds, want the mismatch attested once", len(preds))
	}
	if diff := cmp.Diff([]repro.ProductResult{{
		Name: "out.txt", Digest: map[string]string{"sha256": got}, RunDigests: []string{got},
		Expected: map[string]string{"sha256": want}, Reproducible: false,
	}}, preds[0].Products); diff != "" || preds[0].Result != repro.OutcomeNotReproducible {
		t.Errorf("result %s, products (-want +got):\n%s", preds[0].Result, diff)
	}

	// The first provenance rebuilds too, whatever this checkout's HEAD.
	gitIn(t, fx.clone, "merge", "-q", "--ff-only", "origin/main")
	if code := fx.rebuild(t, "--bundle", first, "--builder-key", builderPub, "--sandbox", "off", "--out", t.TempDir()); code != 0 {
		t.Errorf("older provenance: exit %d, want 0\n%s", code, ta.errOut)
	}
}

// TestRebuildSameCheckout: the README's order, build then rebuild in the
// same checkout, works although the build left its untracked output
// (dist/) behind (issue 16.1). The old rebuild refused: "uncommitted or
// untracked changes".
func TestRebuildSameCheckout(t *testing.T) {
	fx := newRebuildFixture(t)
	writeFile(t, filepath.Join(fx.repo, "build.sh"), "mkdir -p dist && cat input.txt > dist/app\n")
	gitIn(t, fx.repo, "commit", "-q", "-am", "build into dist/")
	t.Chdir(fx.repo)
	out := filepath.Join(fx.out, "p")
	fx.ta.mustRun(t, "build", "--sandbox", "off", "--key", fx.key("builder")+".key", "--out", out, "--output-dir", "dist", "--", "sh", "build.sh")
	if status := gitIn(t, fx.repo, "status", "--porcelain"); !strings.Contains(status, "dist/") {
		t.Fatalf("the build left no untracked dist/ (status %q): the test would prove nothing", status)
	}
	code := fx.ta.run("rebuild", "--bundle", filepath.Join(out, "provenance.bundle.json"), "--builder-key", fx.key("builder")+".pub",
		"--key", fx.key("rebuilder")+".key", "--sandbox", "off", "--out", t.TempDir())
	if code != 0 {
		t.Fatalf("rebuild in the build's checkout: exit %d, want 0\n%s\n%s", code, fx.ta.out, fx.ta.errOut)
	}
	if !strings.Contains(fx.ta.out.String(), "ok       dist/app") {
		t.Errorf("verdict:\n%s", fx.ta.out)
	}
}

func TestRebuildUsage(t *testing.T) {
	ta := newTestApp(t)
	dir := t.TempDir()
	notProv := writeFile(t, filepath.Join(dir, "x.json"), "{}")
	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"no bundle", []string{"rebuild", "--key", "k.key", "--builder-key", "b.pub"}, ExitUsage},
		{"no key", []string{"rebuild", "--bundle", notProv, "--builder-key", "b.pub"}, ExitUsage},
		{"no builders", []string{"rebuild", "--bundle", notProv, "--key", "k.key"}, ExitUsage},
		{"both trust sources", []string{"rebuild", "--bundle", notProv, "--key", "k.key", "--builder-key", "b.pub", "--trust", "t.yaml"}, ExitUsage},
		{"bad sandbox", []string{"rebuild", "--bundle", notProv, "--key", "k.key", "--builder-key", "b.pub", "--sandbox", "maybe"}, ExitUsage},
		{"missing builder key", []string{"rebuild", "--bundle", notProv, "--key", "k.key", "--builder-key", filepath.Join(dir, "none.pub")}, ExitBadInput},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code := ta.run(tc.args...); code != tc.want {
				t.Errorf("exit %d, want %d (%s)", code, tc.want, ta.errOut)
			}
		})
	}
}

// TestRebuildSandboxed rebuilds a sandboxed build whose product lies in an
// output directory: the recorded writable directory is writable again and
// nothing else in the checkout is.
func TestRebuildSandboxed(t *testing.T) {
	fx := newRebuildFixture(t)
	ta := fx.ta
	writeFile(t, filepath.Join(fx.repo, ".gitignore"), "dist/\n")
	writeFile(t, filepath.Join(fx.repo, "build.sh"), "mkdir -p dist/bin && { cat input.txt; echo \"$SOURCE_DATE_EPOCH\"; } > dist/bin/app\n")
	gitIn(t, fx.repo, "commit", "-q", "-am", "build into dist")
	gitIn(t, fx.clone, "pull", "-q", "--ff-only")
	t.Chdir(fx.repo)
	out := filepath.Join(fx.out, "sandboxed")
	ta.mustRun(t, "build", "--sandbox", "on", "--key", fx.key("builder")+".key", "--out", out, "--output-dir", "dist", "--", "sh", "build.sh")
	want := fileSHA256(t, filepath.Join(fx.repo, "dist", "bin", "app"))
	if code := fx.rebuild(t, "--bundle", filepath.Join(out, "provenance.bundle.json"), "--builder-key", fx.key("builder")+".pub", "--sandbox", "on", "--out", t.TempDir()); code != 0 {
		t.Fatalf("sandboxed rebuild: exit %d\n%s\n%s", code, ta.out, ta.errOut)
	}
	if !strings.Contains(ta.out.String(), "ok       dist/bin/app sha256:"+want) {
		t.Errorf("rebuild output:\n%s", ta.out)
	}
	if preds := fx.stored(t, want); len(preds) != 1 || preds[0].Result != repro.OutcomeReproducible {
		t.Errorf("stored: %+v", preds)
	}
}

// TestRebuildDirtyProvenance: a build from a tree with uncommitted changes
// cannot be rebuilt from its commit, so the rebuild refuses unless told
// otherwise.
func TestRebuildDirtyProvenance(t *testing.T) {
	fx := newRebuildFixture(t)
	ta := fx.ta
	writeFile(t, filepath.Join(fx.repo, "notes.txt"), "uncommitted")
	bundle := fx.build(t, "dirty")
	args := []string{"--bundle", bundle, "--builder-key", fx.key("builder") + ".pub", "--sandbox", "off", "--out", t.TempDir()}
	if code := fx.rebuild(t, args...); code != ExitRejected {
		t.Errorf("dirty provenance: exit %d, want %d\n%s", code, ExitRejected, ta.errOut)
	}
	if !strings.Contains(ta.errOut.String(), "records uncommitted changes") {
		t.Errorf("dirty provenance message: %s", ta.errOut)
	}
	if code := fx.rebuild(t, append(args, "--allow-dirty-unsafe")...); code != 0 {
		t.Errorf("--allow-dirty-unsafe: exit %d, want 0\n%s", code, ta.errOut)
	}
	if !strings.Contains(ta.errOut.String(), "warning: --allow-dirty-unsafe") {
		t.Errorf("no warning: %s", ta.errOut)
	}
	// Attack (#16 item 2): the attestation said "reproducible" with no mark
	// that the source was dirty. It must carry the mark, and say it.
	if !strings.Contains(ta.out.String(), "FROM A DIRTY TREE") {
		t.Errorf("rebuild output does not say the tree was dirty:\n%s", ta.out)
	}
	preds := fx.stored(t, fileSHA256(t, filepath.Join(fx.repo, "out.txt")))
	if len(preds) != 1 || preds[0].Source == nil || !preds[0].Source.Dirty || preds[0].Result != repro.OutcomeReproducible {
		t.Fatalf("stored rebuild predicates %+v, want one reproducible with source.dirty", preds)
	}
}

// TestRebuildCleanIsNotMarkedDirty: the dirty mark is not on every rebuild.
func TestRebuildCleanIsNotMarkedDirty(t *testing.T) {
	fx := newRebuildFixture(t)
	bundle := fx.build(t, "clean")
	if code := fx.rebuild(t, "--bundle", bundle, "--builder-key", fx.key("builder")+".pub", "--sandbox", "off", "--out", t.TempDir()); code != 0 {
		t.Fatalf("exit %d\n%s", code, fx.ta.errOut)
	}
	preds := fx.stored(t, fileSHA256(t, filepath.Join(fx.repo, "out.txt")))
	if len(preds) != 1 || preds[0].Source == nil || preds[0].Source.Dirty {
		t.Fatalf("stored rebuild predicates %+v, want one with source.dirty false", preds)
	}
}

// TestRebuildDoesNotFollowProductLinks: a rebuild whose product is a
// symbolic link to a file committed in the source did not build that
// product. The old rebuild hashed the products through os.Root.Open, which
// follows links inside the tree, and attested a committed blob as
// reproduced; digest.Files never follows a link.
func TestRebuildDoesNotFollowProductLinks(t *testing.T) {
	fx := newRebuildFixture(t)
	writeFile(t, filepath.Join(fx.repo, ".gitignore"), "out.txt\n.builder-here\n")
	writeFile(t, filepath.Join(fx.repo, "prebuilt.bin"), "a binary nobody built from this source\n")
	writeFile(t, filepath.Join(fx.repo, "build.sh"),
		"if [ -e .builder-here ]; then cp prebuilt.bin out.txt; else ln -s prebuilt.bin out.txt; fi\n")
	gitIn(t, fx.repo, "add", ".")
	gitIn(t, fx.repo, "commit", "-q", "-m", "product links to a committed blob outside the builder's checkout")
	writeFile(t, filepath.Join(fx.repo, ".builder-here"), "")
	bundle := fx.build(t, "p")
	gitIn(t, fx.clone, "pull", "-q")

	code := fx.rebuild(t, "--bundle", bundle, "--builder-key", fx.key("builder")+".pub", "--sandbox", "off", "--out", t.TempDir())
	if code != ExitRejected {
		t.Errorf("rebuilt product is a link: exit %d, want %d\n%s\n%s", code, ExitRejected, fx.ta.out, fx.ta.errOut)
	}
	if strings.Contains(fx.ta.out.String(), "ok       out.txt") {
		t.Errorf("the link's target was attested as the rebuilt product:\n%s", fx.ta.out)
	}
}

// TestRebuildIgnoresRepositoryHooks: the checkout being rebuilt is not
// trusted, so a hook its own git configuration names must not run. The
// rebuild's `git status` (with --allow-dirty-unsafe) ran an fsmonitor
// hook before it used the hardened git runner of build (issue 17.5).
func TestRebuildIgnoresRepositoryHooks(t *testing.T) {
	fx := newRebuildFixture(t)
	bundle := fx.build(t, "hooked")
	marker := filepath.Join(t.TempDir(), "hook-ran")
	hook := filepath.Join(t.TempDir(), "fsmonitor")
	writeFile(t, hook, "#!/bin/sh\ntouch "+marker+"\nexit 1\n")
	if err := os.Chmod(hook, 0o755); err != nil {
		t.Fatal(err)
	}
	gitIn(t, fx.clone, "config", "core.fsmonitor", hook)
	code := fx.rebuild(t, "--bundle", bundle, "--builder-key", fx.key("builder")+".pub", "--sandbox", "off", "--out", t.TempDir(), "--allow-dirty-unsafe")
	if code != 0 {
		t.Fatalf("rebuild: exit %d\n%s", code, fx.ta.errOut)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("rebuild ran the fsmonitor hook named by the checkout's .git/config")
	}
}
