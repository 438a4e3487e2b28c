package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/build"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/internal/limits"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/provenance"
	"github.com/hallmark-dev/hallmark/repro"
	"github.com/hallmark-dev/hallmark/trust"
)

type rebuildFlags struct {
	bundle      string
	trustFile   string
	builderKeys []string
	key         string
	rebuilderID string
	sandbox     string
	out         string
	env         []string
	cacheDirs   []string
	goModCache  string
	allowDirty  bool
}

func newRebuildCmd(app *App) *cobra.Command {
	var f rebuildFlags
	cmd := &cobra.Command{
		Use:   "rebuild --bundle PROVENANCE [--trust TRUST.yaml | --builder-key PUB...] [--key REBUILDER.key] [--rebuilder-id URI] [--sandbox auto|on|off] [--out DIR]",
		Short: "Re-run the build recorded in a provenance bundle and attest whether its products match",
		Long: `Verify a SLSA v1 provenance bundle against the builder keys (--builder-key, or
the keys with role builder in --trust; default the project's trust file), then
re-run its recorded command in a clean checkout of the recorded commit: a
temporary local clone of this repository (which must contain the commit), so
this checkout's own changes, untracked files and outputs (dist/, the store)
never reach the rebuild. It runs in the recorded working directory and with the recorded
SOURCE_DATE_EPOCH, the same clean environment as 'hallmark build' (PATH and
--env names) and the same sandbox (--sandbox). Each original subject is
compared with the rebuilt file of the same name. The result is a
reproducibility attestation (predicate https://hallmark.dev/attestation/reproducibility/v1)
whose subjects are the original subjects and whose products say, per
product, the rebuilt digest and whether it matched. It is signed with --key,
stored, and written to DIR/rebuild.bundle.json (the build log goes to
DIR/build.log, the rebuilt products to DIR/products/, ready for 'hallmark
diff'). A mismatch is attested too.

Exit 0 when every product matched; 1 when a product differed or is missing
(attested), when the bundle does not verify, is not provenance, or records
no commit or a dirty tree; 2 for a wrong command line; 3 for an unreadable
bundle or key; 4 when this repository does not have the recorded commit,
or the build fails (nothing attested).

--allow-dirty-unsafe rebuilds a provenance that records uncommitted changes,
in this checkout as it is (which must be at the recorded commit).`,
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return app.runRebuild(contextOf(cmd), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.bundle, "bundle", "", "provenance bundle to rebuild (required)")
	fl.StringVar(&f.trustFile, "trust", "", "trust file: the provenance must be signed by a key with role builder")
	fl.StringArrayVar(&f.builderKeys, "builder-key", nil, "trusted builder public key file (repeatable; instead of --trust)")
	fl.StringVar(&f.key, "key", "", "rebuilder's private key file (NAME.key) that signs the attestation (required)")
	fl.StringVar(&f.rebuilderID, "rebuilder-id", "", "rebuilder identity URI in the attestation (default: derived from the key ID)")
	fl.StringVar(&f.sandbox, "sandbox", "auto", "isolation: auto (fall back and record it), on (required) or off")
	fl.StringVar(&f.out, "out", filepath.Join(DefaultStoreDir, "rebuild"), "directory for rebuild.bundle.json, build.log and the rebuilt products/")
	fl.StringArrayVar(&f.env, "env", nil, "environment variable passed through to the build (repeatable; PATH always is)")
	fl.StringArrayVar(&f.cacheDirs, "cache-dir", nil, "absolute directory writable in the sandbox that holds no products (repeatable)")
	fl.StringVar(&f.goModCache, "go-mod-cache", "", "Go module cache mounted read-only; the build runs with GOPROXY=off")
	fl.BoolVar(&f.allowDirty, "allow-dirty-unsafe", false, "rebuild even when the provenance or this checkout has uncommitted changes (the result then proves little)")
	return cmd
}

// rebuildPlan is what a verified provenance says about how to rebuild.
type rebuildPlan struct {
	summary provenance.Summary
	// expected maps subject names to their sha256 hex.
	expected map[string]string
	// sourceDateEpoch is the recorded SOURCE_DATE_EPOCH, nil when absent.
	sourceDateEpoch *time.Time
	// writableDirs are the recorded writable directories inside the source.
	writableDirs []string
	prepare      [][]string
}

func (a *App) runRebuild(ctx context.Context, f rebuildFlags) error {
	var err error
	if f.key, err = a.projectKey(f.key, "rebuilder"); err != nil {
		return err
	}
	if len(f.builderKeys) == 0 {
		if f.trustFile, err = a.projectTrust(f.trustFile); err != nil {
			return err
		}
	}
	if f.bundle == "" || f.key == "" {
		return usageError(errors.New("--bundle and --key are required"))
	}
	if (f.trustFile == "") == (len(f.builderKeys) == 0) {
		return usageError(errors.New("give the trusted builders with either --trust or --builder-key (one of them)"))
	}
	mode := build.SandboxMode(f.sandbox)
	switch mode {
	case build.SandboxAuto, build.SandboxOn, build.SandboxOff:
	default:
		return usageError(fmt.Errorf("--sandbox %q: want auto, on or off", f.sandbox))
	}
	builders, err := builderKeySet(f)
	if err != nil {
		return err
	}
	key, err := a.loadSigningKey(f.key)
	if err != nil {
		return err
	}
	raw, err := a.readInput(f.bundle, limits.MaxBundleBytes)
	if err != nil {
		return err
	}
	v, err := attest.Verify(ctx, raw, builders, attest.WithInputName(f.bundle))
	if err != nil {
		return err
	}
	plan, err := planRebuild(f.bundle, v)
	if err != nil {
		return err
	}
	s := plan.summary
	switch {
	case s.Commit == "":
		return rejected(fmt.Errorf("%s: the provenance records no git commit: there is no source to check out and rebuild", f.bundle))
	case s.Dirty && !f.allowDirty:
		return rejected(fmt.Errorf("%s: the provenance records uncommitted changes at commit %s: the source it was built from cannot be checked out (--allow-dirty-unsafe rebuilds the commit anyway)", f.bundle, s.Commit))
	case len(s.Command) == 0:
		return rejected(fmt.Errorf("%s: the provenance records no build command", f.bundle))
	}

	wd, err := os.Getwd()
	if err != nil {
		return environmentErr(err)
	}
	src := sourceRoot(ctx, wd)
	if _, err := gitOutput(ctx, src, "rev-parse", "HEAD"); err != nil {
		return environmentErr(fmt.Errorf("%s is not a git work tree with a commit: clone %s first: %w", wd, orNone(s.SourceURI), err))
	}
	// status lists this checkout's own changes when it is rebuilt as it is.
	var status string
	if f.allowDirty {
		// Rebuild this checkout as it is, uncommitted changes and all.
		head, err := gitOutput(ctx, src, "rev-parse", "HEAD")
		if err != nil {
			return environmentErr(err)
		}
		if head != s.Commit {
			return environmentErr(fmt.Errorf("checkout %s is at commit %s, the provenance was built from %s: run 'git checkout %s' first", src, head, s.Commit, s.Commit))
		}
		if status, err = gitStatus(ctx, src, a.resolvedStoreDir(), f.out); err != nil {
			return environmentErr(err)
		}
		fmt.Fprintln(a.Stderr, "warning: --allow-dirty-unsafe: rebuilding this checkout as it is; uncommitted changes may make the rebuild differ, or agree by accident")
		if status != "" {
			fmt.Fprintf(a.Stderr, "uncommitted or untracked changes in %s:\n%s\n", src, status)
		}
	} else {
		// Rebuild in a clean worktree of the recorded commit, so neither
		// local changes nor this checkout's own outputs (dist/, the store)
		// reach the build.
		wt, err := newCleanWorktree(ctx, src, s.Commit)
		if err != nil {
			return environmentErr(err)
		}
		defer wt.remove()
		a.progress("rebuild: clean checkout of commit %s at %s", short(s.Commit, 12), wt.dir)
		src = wt.dir
	}

	names := slices.Sorted(maps.Keys(plan.expected))
	outDirs, atRoot := outputDirsFor(names, plan.writableDirs)
	if len(atRoot) > 0 && mode != build.SandboxOff {
		if mode == build.SandboxOn {
			return usageError(fmt.Errorf("products %s are at the source root, which the sandbox keeps read-only: rebuild with --sandbox off or auto", strings.Join(atRoot, ", ")))
		}
		fmt.Fprintf(a.Stderr, "running without the sandbox: products %s are at the source root, which the sandbox keeps read-only\n", strings.Join(atRoot, ", "))
		mode = build.SandboxOff
	}

	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return environmentErr(fmt.Errorf("--out %s: %w", f.out, err))
	}
	allow := append([]string{"PATH"}, f.env...)
	started := a.Now()
	a.progress("rebuild: running %s (log: %s)", strings.Join(s.Command, " "), filepath.Join(f.out, "build.log"))
	res, err := build.Run(ctx, build.Spec{
		Command:         s.Command,
		SourceDir:       src,
		WorkDir:         s.WorkDir,
		Env:             a.allowedEnv(allow),
		EnvAllowlist:    allow,
		SourceDateEpoch: plan.sourceDateEpoch,
		OutputDirs:      outDirs,
		CacheDirs:       f.cacheDirs,
		GoModCache:      f.goModCache,
		Prepare:         plan.prepare,
		LogFile:         filepath.Join(f.out, "build.log"),
		Stdout:          a.Stderr,
		Sandbox:         mode,
		SandboxHelper:   sandboxHelper(),
		Now:             a.Now,
		Logger:          a.Logger,
	})
	switch {
	case errors.Is(err, build.ErrSpec), errors.Is(err, build.ErrCommandNotFound):
		return environmentErr(fmt.Errorf("cannot run the recorded command here: %w", err))
	case err != nil:
		return environmentErr(fmt.Errorf("rebuild failed, nothing attested: %w", err))
	}
	rebuilt, err := hashProducts(src, names)
	if err != nil {
		return environmentErr(err)
	}
	if !f.allowDirty {
		// The clean checkout goes away: keep what it built, for `hallmark diff`.
		if err := keepProducts(src, filepath.Join(f.out, "products"), slices.Collect(maps.Keys(rebuilt))); err != nil {
			return environmentErr(err)
		}
	}
	finished := a.Now()

	id := f.rebuilderID
	if id == "" {
		id = "https://hallmark.dev/rebuilder/key/" + key.Public().ID()
	}
	version := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok {
		version = bi.Main.Version
	}
	pred, err := repro.NewRebuild(repro.RebuildInput{
		Rebuilder: repro.Rebuilder{ID: id, Version: map[string]string{"hallmark": version}},
		Command:   s.Command,
		Source: &repro.Source{URI: s.SourceURI, Digest: map[string]string{digest.GitCommit: s.Commit},
			// Whatever --allow-dirty-unsafe let through is said in the
			// attestation, so no one reads it as a clean reproduction.
			Dirty: s.Dirty || len(s.ModifiedByBuild) > 0 || status != "" || res.Source.Dirty || len(res.Source.ModifiedByBuild) > 0},
		Expected:  plan.expected,
		Rebuilt:   rebuilt,
		StartedOn: started, FinishedOn: finished,
	})
	if err != nil {
		return badInput(fmt.Errorf("%s: %w", f.bundle, err))
	}
	st, err := repro.RebuildStatement(pred)
	if err != nil {
		return badInput(fmt.Errorf("%s: %w", f.bundle, err))
	}
	rec, bundle, err := a.signAndStore(ctx, key, st)
	if err != nil {
		return err
	}
	out := filepath.Join(f.out, "rebuild.bundle.json")
	if err := a.writeOutput(out, bundle); err != nil {
		return err
	}
	writeRebuildText(a, f.bundle, s, pred)
	fmt.Fprintf(a.Stderr, "signed %s %s with key %s as %s\nstored %s\n", pred.Result, out, key.Public().ID(), id, rec.ID)
	if pred.Result != repro.OutcomeReproducible {
		return rejected(fmt.Errorf("rebuild of %s is %s (attested)", f.bundle, pred.Result))
	}
	return nil
}

// builderKeySet is the set of keys trusted to sign provenance.
func builderKeySet(f rebuildFlags) (*attest.KeySet, error) {
	if f.trustFile != "" {
		t, err := trust.Load(f.trustFile)
		if err != nil {
			return nil, badInput(err)
		}
		return t.WithRole(trust.RoleBuilder), nil
	}
	var pubs []*keys.PublicKey
	for _, p := range f.builderKeys {
		k, err := keys.LoadPublicKeyFile(p)
		if err != nil {
			return nil, badInput(err)
		}
		pubs = append(pubs, k)
	}
	return attest.NewKeySet(pubs...), nil
}

// planRebuild reads the rebuild recipe from verified provenance.
func planRebuild(name string, v *attest.Verified) (*rebuildPlan, error) {
	if v.PredicateType != provenance.PredicateType {
		return nil, rejected(fmt.Errorf("%s: predicate type %q is not SLSA provenance v1", name, v.PredicateType))
	}
	predJSON, err := v.PredicateJSON()
	if err != nil {
		return nil, badInput(err)
	}
	p, err := provenance.Parse(predJSON)
	if err != nil {
		return nil, badInput(err)
	}
	plan := &rebuildPlan{summary: provenance.Summarize(p), expected: map[string]string{}}
	for _, sub := range v.Subjects() {
		d := strings.ToLower(sub.Digest[digest.SHA256])
		if d == "" {
			return nil, badInput(fmt.Errorf("%s: subject %q has no sha256 digest", name, sub.Name))
		}
		if err := checkProductName(sub.Name); err != nil {
			return nil, badInput(fmt.Errorf("%s: subject %w", name, err))
		}
		if old, ok := plan.expected[sub.Name]; ok && old != d {
			return nil, badInput(fmt.Errorf("%s: subject %q is listed twice with different digests", name, sub.Name))
		}
		plan.expected[sub.Name] = d
	}
	internal, err := provenance.ReadInternal(p)
	if err != nil {
		return nil, badInput(fmt.Errorf("%s: %w", name, err))
	}
	if plan.sourceDateEpoch, err = internal.SourceDate(); err != nil {
		return nil, badInput(fmt.Errorf("%s: %w", name, err))
	}
	if internal.Sandbox != nil {
		for _, d := range internal.Sandbox.WritableDirs {
			if checkProductName(d) == nil {
				plan.writableDirs = append(plan.writableDirs, d)
			}
		}
	}
	for _, st := range internal.Prepare {
		plan.prepare = append(plan.prepare, st.Command)
	}
	return plan, nil
}

// checkProductName accepts a clean slash path inside the source root.
func checkProductName(n string) error {
	if n == "" || n == "." || path.IsAbs(n) || path.Clean(n) != n || n == ".." || strings.HasPrefix(n, "../") || strings.Contains(n, "\\") {
		return fmt.Errorf("%q is not a clean path inside the source root", n)
	}
	return nil
}

// outputDirsFor returns the directories the build must be able to write in
// the sandbox: the recorded writable directories, plus the top-level
// directory of each product outside them. Products at the source root
// cannot be made writable alone and are returned in atRoot.
func outputDirsFor(names, recorded []string) (dirs, atRoot []string) {
	dirs = slices.Clone(recorded)
	under := func(n string) bool {
		for _, d := range dirs {
			if n == d || strings.HasPrefix(n, d+"/") {
				return true
			}
		}
		return false
	}
	for _, n := range names {
		switch top, _, nested := strings.Cut(n, "/"); {
		case under(n):
		case nested:
			dirs = append(dirs, top)
		default:
			atRoot = append(atRoot, n)
		}
	}
	return dirs, atRoot
}

// hashProducts returns the sha256 hex of each named regular file under
// src; names that are missing or not regular files are left out.
func hashProducts(src string, names []string) (map[string]string, error) {
	root, err := limits.OpenRoot(src)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	out := map[string]string{}
	for _, n := range names {
		f, err := root.Open(filepath.FromSlash(n))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("rebuilt product %s: %w", n, err)
		}
		fi, err := f.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			f.Close()
			continue
		}
		set, _, err := digest.Reader(f, digest.SHA256)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("hash rebuilt product %s: %w", n, err)
		}
		out[n] = set[digest.SHA256]
	}
	return out, nil
}

// keepProducts copies the named files under src to the same names under dst.
func keepProducts(src, dst string, names []string) error {
	root, err := os.OpenRoot(src)
	if err != nil {
		return err
	}
	defer root.Close()
	for _, n := range names {
		b, err := root.ReadFile(filepath.FromSlash(n))
		if err != nil {
			return fmt.Errorf("keep rebuilt product %s: %w", n, err)
		}
		to := filepath.Join(dst, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(to, b, 0o644); err != nil {
			return fmt.Errorf("keep rebuilt product %s: %w", n, err)
		}
	}
	return nil
}

// gitOutput runs git in dir with the caller's configuration kept away.
func gitOutput(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-c", "safe.directory=*", "-C", dir}, args...)...)
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "GIT_CONFIG_NOSYSTEM=1", "HOME=/nonexistent", "LC_ALL=C"}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// gitStatus lists uncommitted and untracked changes in src, leaving out
// hallmark's own directories (the store, the output) when they are inside.
func gitStatus(ctx context.Context, src string, own ...string) (string, error) {
	args := []string{"status", "--porcelain", "--untracked-files=normal", "--", "."}
	for _, d := range own {
		abs, err := filepath.Abs(d)
		if err != nil {
			continue
		}
		if r, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
			abs = filepath.Join(r, filepath.Base(abs))
		}
		rel, err := filepath.Rel(src, abs)
		if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, "../") {
			continue
		}
		args = append(args, ":(exclude)"+filepath.ToSlash(rel))
	}
	return gitOutput(ctx, src, args...)
}

// cleanWorktree is a temporary clean checkout of one commit.
type cleanWorktree struct {
	// dir is its work tree, inside tmp.
	dir, tmp string
}

// newCleanWorktree checks out commit, from the repository at src, in a new
// temporary directory: a local clone (objects hard-linked, so it is cheap)
// with HEAD detached at the commit. Not a `git worktree`: its .git is a file
// pointing back into src, and the Go toolchain stamps VCS information
// (vcs.revision, vcs.time, vcs.modified) only under a .git directory, so a
// Go binary rebuilt in a git worktree differs from one built in a clone.
func newCleanWorktree(ctx context.Context, src, commit string) (*cleanWorktree, error) {
	if _, err := gitOutput(ctx, src, "cat-file", "-e", commit+"^{commit}"); err != nil {
		return nil, fmt.Errorf("commit %s is not in the repository at %s: fetch it first: %w", commit, src, err)
	}
	tmp, err := os.MkdirTemp("", "hallmark-rebuild-")
	if err != nil {
		return nil, err
	}
	wt := &cleanWorktree{dir: filepath.Join(tmp, "src"), tmp: tmp}
	if _, err := gitOutput(ctx, tmp, "clone", "--quiet", "--local", "--no-checkout", src, wt.dir); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("clone %s for a clean checkout of %s: %w", src, commit, err)
	}
	if _, err := gitOutput(ctx, wt.dir, "checkout", "--quiet", "--detach", commit); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("check out commit %s in a clean clone: %w", commit, err)
	}
	return wt, nil
}

// remove deletes the checkout.
func (w *cleanWorktree) remove() { os.RemoveAll(w.tmp) }

func writeRebuildText(a *App, bundle string, s provenance.Summary, p *repro.Predicate) {
	w := a.Stdout
	fmt.Fprintf(w, "rebuild of %s\n  command: %s (in %s)\n  source:  %s commit %s\n\n", bundle, strings.Join(s.Command, " "), s.WorkDir, orNone(s.SourceURI), s.Commit)
	for _, pr := range p.Products {
		switch {
		case pr.Digest == nil:
			fmt.Fprintf(w, "  MISSING  %s expected sha256:%s, not produced\n", pr.Name, pr.Expected["sha256"])
		case pr.Reproducible:
			fmt.Fprintf(w, "  ok       %s sha256:%s\n", pr.Name, pr.Digest["sha256"])
		default:
			fmt.Fprintf(w, "  DIFFERS  %s rebuilt sha256:%s, expected sha256:%s\n", pr.Name, pr.Digest["sha256"], pr.Expected["sha256"])
		}
	}
	if p.Source != nil && p.Source.Dirty {
		fmt.Fprintf(w, "\n%s FROM A DIRTY TREE (uncommitted or build-modified source; attested as dirty, proves little)\n", p.Result)
		return
	}
	fmt.Fprintf(w, "\n%s\n", p.Result)
}
