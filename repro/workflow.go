package repro

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/build"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/internal/gitexec"
	"github.com/hallmark-dev/hallmark/provenance"
)

// Errors of RebuildProvenance, for errors.Is. Other errors are about this
// machine: the checkout, the build, the file system.
var (
	// ErrNotRebuildable means the provenance cannot be rebuilt as it
	// stands: not SLSA provenance, no commit, a dirty tree, no command.
	ErrNotRebuildable = errors.New("provenance cannot be rebuilt")
	// ErrProvenance means the provenance's contents are unusable
	// (subjects, internal parameters).
	ErrProvenance = errors.New("unusable provenance")
)

// RebuildSpec is an independent rebuild of a verified provenance.
type RebuildSpec struct {
	// Provenance is the SLSA provenance, verified against the builders'
	// keys; Name names it in errors.
	Provenance *attest.Verified
	Name       string
	// Checkout is a directory in a git work tree that has the recorded
	// commit. The rebuild runs in a temporary clean clone of that commit,
	// unless AllowDirtyUnsafe, when it runs in the checkout as it is.
	Checkout         string
	AllowDirtyUnsafe bool
	// OwnDirs are directories of the caller (the store, OutDir) left out
	// of the checkout's changes when it is rebuilt as it is.
	OwnDirs []string
	// OutDir receives build.log and, from a clean clone, the rebuilt
	// products under products/.
	OutDir string
	// Env, EnvAllowlist, CacheDirs and GoModCache are as in build.Spec.
	Env          []string
	EnvAllowlist []string
	CacheDirs    []string
	GoModCache   string
	// OutputDirs (relative to the source root) are where the build writes
	// products, beside the writable directories the provenance records
	// (none when it was built without the sandbox). An image product (an
	// OCI layout or an image archive) is found there: its subject is named
	// by its repository, not by its path.
	OutputDirs []string
	// Sandbox and SandboxHelper are as in build.Spec.
	Sandbox       build.SandboxMode
	SandboxHelper []string
	// Rebuilder identifies who rebuilds, in the predicate.
	Rebuilder Rebuilder
	// Now is the clock (default time.Now); Logger logs (default none).
	Now    func() time.Time
	Logger *slog.Logger
	// Output receives the build's output (default none).
	Output io.Writer
	// Notify is told, in a line for a person, what the rebuild does and
	// what it had to give up (default nobody).
	Notify func(msg string)
}

// RebuildOutcome is the attested result of RebuildProvenance.
type RebuildOutcome struct {
	// Summary is what the provenance says.
	Summary provenance.Summary
	// Predicate and Statement are the reproducibility attestation, to sign.
	Predicate *Predicate
	Statement *intoto.Statement
	// CheckoutChanges lists the checkout's own uncommitted and untracked
	// changes when it was rebuilt as it is (AllowDirtyUnsafe).
	CheckoutChanges string
	// Images are the rebuilt products that are container images, compared
	// by manifest digest, with where they were kept.
	Images []RebuiltImage
}

// RebuildProvenance re-runs the build a provenance records, from the
// recorded commit, in the recorded working directory, with the recorded
// SOURCE_DATE_EPOCH and preparation steps, the clean environment and the
// sandbox of build.Run, and compares every subject with the rebuilt file of
// the same name. A mismatch is a successful rebuild whose predicate says
// so; an error means nothing can be attested.
func RebuildProvenance(ctx context.Context, s RebuildSpec) (*RebuildOutcome, error) {
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.Output == nil {
		s.Output = io.Discard
	}
	notify := s.Notify
	if notify == nil {
		notify = func(string) {}
	}
	mode := s.Sandbox
	switch mode {
	case build.SandboxAuto, build.SandboxOn, build.SandboxOff:
	default:
		return nil, fmt.Errorf("%w: sandbox mode %q: want auto, on or off", ErrInvalid, mode)
	}
	plan, err := planRebuild(s.Name, s.Provenance)
	if err != nil {
		return nil, err
	}
	sum := plan.summary
	switch {
	case sum.Commit == "":
		return nil, fmt.Errorf("%w: %s: the provenance records no git commit: there is no source to check out and rebuild", ErrNotRebuildable, s.Name)
	case sum.Dirty && !s.AllowDirtyUnsafe:
		return nil, fmt.Errorf("%w: %s: the provenance records uncommitted changes at commit %s: the source it was built from cannot be checked out (--allow-dirty-unsafe rebuilds the commit anyway)", ErrNotRebuildable, s.Name, sum.Commit)
	case len(sum.Command) == 0:
		return nil, fmt.Errorf("%w: %s: the provenance records no build command", ErrNotRebuildable, s.Name)
	}

	src := gitexec.Toplevel(ctx, s.Checkout)
	if _, err := gitexec.Output(ctx, src, "rev-parse", "HEAD"); err != nil {
		return nil, fmt.Errorf("%s is not a git work tree with a commit: clone %s first: %w", s.Checkout, orNone(sum.SourceURI), err)
	}
	out := &RebuildOutcome{Summary: sum}
	if s.AllowDirtyUnsafe {
		// Rebuild this checkout as it is, uncommitted changes and all.
		head, err := gitexec.Output(ctx, src, "rev-parse", "HEAD")
		if err != nil {
			return nil, err
		}
		if head != sum.Commit {
			return nil, fmt.Errorf("checkout %s is at commit %s, the provenance was built from %s: run 'git checkout %s' first", src, head, sum.Commit, sum.Commit)
		}
		if out.CheckoutChanges, err = gitStatus(ctx, src, s.OwnDirs...); err != nil {
			return nil, err
		}
		notify("warning: --allow-dirty-unsafe: rebuilding this checkout as it is; uncommitted changes may make the rebuild differ, or agree by accident")
		if out.CheckoutChanges != "" {
			notify(fmt.Sprintf("uncommitted or untracked changes in %s:\n%s", src, out.CheckoutChanges))
		}
	} else {
		// Rebuild in a clean clone of the recorded commit, so neither
		// local changes nor this checkout's own outputs (dist/, the store)
		// reach the build.
		wt, err := newCleanWorktree(ctx, src, sum.Commit)
		if err != nil {
			return nil, err
		}
		defer wt.remove()
		notify(fmt.Sprintf("rebuild: clean checkout of commit %s at %s", shortCommit(sum.Commit), wt.dir))
		src = wt.dir
	}

	for _, d := range s.OutputDirs {
		if err := checkProductName(d); err != nil {
			return nil, fmt.Errorf("%w: output directory %w", ErrInvalid, err)
		}
	}
	names := slices.Sorted(maps.Keys(plan.expected))
	outDirs, atRoot := outputDirsFor(names, append(slices.Clone(plan.writableDirs), s.OutputDirs...))
	if len(atRoot) > 0 && mode != build.SandboxOff {
		if mode == build.SandboxOn {
			return nil, fmt.Errorf("%w: products %s are at the source root, which the sandbox keeps read-only: rebuild with --sandbox off or auto", ErrInvalid, strings.Join(atRoot, ", "))
		}
		notify(fmt.Sprintf("running without the sandbox: products %s are at the source root, which the sandbox keeps read-only", strings.Join(atRoot, ", ")))
		mode = build.SandboxOff
	}

	if err := os.MkdirAll(s.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("output directory %s: %w", s.OutDir, err)
	}
	started := s.Now()
	logFile := filepath.Join(s.OutDir, "build.log")
	notify(fmt.Sprintf("rebuild: running %s (log: %s)", strings.Join(sum.Command, " "), logFile))
	res, err := build.Run(ctx, build.Spec{
		Command:         sum.Command,
		SourceDir:       src,
		WorkDir:         sum.WorkDir,
		Env:             s.Env,
		EnvAllowlist:    s.EnvAllowlist,
		SourceDateEpoch: plan.sourceDateEpoch,
		OutputDirs:      outDirs,
		CacheDirs:       s.CacheDirs,
		GoModCache:      s.GoModCache,
		Prepare:         plan.prepare,
		LogFile:         logFile,
		Stdout:          s.Output,
		Sandbox:         mode,
		SandboxHelper:   s.SandboxHelper,
		Now:             s.Now,
		Logger:          s.Logger,
	})
	switch {
	case errors.Is(err, build.ErrSpec), errors.Is(err, build.ErrCommandNotFound):
		return nil, fmt.Errorf("cannot run the recorded command here: %w", err)
	case err != nil:
		return nil, fmt.Errorf("rebuild failed, nothing attested: %w", err)
	}
	rebuilt, images, err := rebuiltProducts(ctx, src, names, plan.expected, res.Products)
	if err != nil {
		return nil, err
	}
	kept := src
	if !s.AllowDirtyUnsafe {
		// The clean checkout goes away: keep what it built, for `hallmark diff`.
		kept = filepath.Join(s.OutDir, "products")
		var keep []string
		for n := range rebuilt {
			if !slices.ContainsFunc(images, func(im RebuiltImage) bool { return im.Subject == n }) {
				keep = append(keep, n)
			}
		}
		for _, im := range images {
			keep = append(keep, im.Path)
		}
		if err := keepProducts(src, kept, keep); err != nil {
			return nil, err
		}
	}
	for i, im := range images {
		p := filepath.Join(kept, filepath.FromSlash(im.Path))
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			images[i].Ref = "oci:" + p
		} else {
			images[i].Ref = "docker-archive:" + p
		}
	}
	out.Images = images
	finished := s.Now()
	out.Predicate, err = NewRebuild(RebuildInput{
		Rebuilder: s.Rebuilder,
		Command:   sum.Command,
		Source: &Source{URI: sum.SourceURI, Digest: map[string]string{digest.GitCommit: sum.Commit},
			// Whatever --allow-dirty-unsafe let through is said in the
			// attestation, so no one reads it as a clean reproduction.
			Dirty: sum.Dirty || len(sum.ModifiedByBuild) > 0 || out.CheckoutChanges != "" || res.Source.Dirty || len(res.Source.ModifiedByBuild) > 0},
		Expected:  plan.expected,
		Rebuilt:   rebuilt,
		StartedOn: started, FinishedOn: finished,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrProvenance, s.Name, err)
	}
	if out.Statement, err = RebuildStatement(out.Predicate); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrProvenance, s.Name, err)
	}
	return out, nil
}

// CheckoutSource names the git commit of dir and whether the tree has
// uncommitted or untracked changes (hallmark's own directories left out),
// so the attestation never presents a dirty tree as its commit; nil outside
// a git work tree.
func CheckoutSource(ctx context.Context, dir string, own ...string) *Source {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil
	}
	commit, err := gitexec.Output(ctx, abs, "rev-parse", "HEAD")
	if err != nil {
		return nil
	}
	src := &Source{Digest: map[string]string{digest.GitCommit: commit}}
	var mine []string
	for _, d := range own {
		if d != "" {
			mine = append(mine, d)
		}
	}
	status, err := gitStatus(ctx, abs, mine...)
	src.Dirty = err != nil || status != ""
	return src
}

func orNone(s string) string {
	if s == "" {
		return "(none recorded)"
	}
	return s
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
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

// planRebuild reads the rebuild recipe from verified provenance.
func planRebuild(name string, v *attest.Verified) (*rebuildPlan, error) {
	if v.PredicateType != provenance.PredicateType {
		return nil, fmt.Errorf("%w: %s: predicate type %q is not SLSA provenance v1", ErrNotRebuildable, name, v.PredicateType)
	}
	predJSON, err := v.PredicateJSON()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrProvenance, name, err)
	}
	p, err := provenance.Parse(predJSON)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrProvenance, name, err)
	}
	plan := &rebuildPlan{summary: provenance.Summarize(p), expected: map[string]string{}}
	for _, sub := range v.Subjects() {
		d := strings.ToLower(sub.Digest[digest.SHA256])
		if d == "" {
			return nil, fmt.Errorf("%w: %s: subject %q has no sha256 digest", ErrProvenance, name, sub.Name)
		}
		if err := checkProductName(sub.Name); err != nil {
			return nil, fmt.Errorf("%w: %s: subject %w", ErrProvenance, name, err)
		}
		if old, ok := plan.expected[sub.Name]; ok && old != d {
			return nil, fmt.Errorf("%w: %s: subject %q is listed twice with different digests", ErrProvenance, name, sub.Name)
		}
		plan.expected[sub.Name] = d
	}
	internal, err := provenance.ReadInternal(p)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrProvenance, name, err)
	}
	if plan.sourceDateEpoch, err = internal.SourceDate(); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrProvenance, name, err)
	}
	// Output directories: recorded for every build since they were
	// recorded at all; older provenance has them only as the sandbox's
	// writable directories.
	dirs := slices.Clone(internal.OutputDirs)
	if internal.Sandbox != nil {
		dirs = append(dirs, internal.Sandbox.WritableDirs...)
	}
	for _, d := range dirs {
		if checkProductName(d) == nil && !slices.Contains(plan.writableDirs, d) {
			plan.writableDirs = append(plan.writableDirs, d)
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
	return gitexec.Output(ctx, src, args...)
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
	if _, err := gitexec.Output(ctx, src, "cat-file", "-e", commit+"^{commit}"); err != nil {
		return nil, fmt.Errorf("commit %s is not in the repository at %s: fetch it first: %w", commit, src, err)
	}
	tmp, err := os.MkdirTemp("", "hallmark-rebuild-")
	if err != nil {
		return nil, err
	}
	wt := &cleanWorktree{dir: filepath.Join(tmp, "src"), tmp: tmp}
	if _, err := gitexec.Output(ctx, tmp, "clone", "--quiet", "--local", "--no-checkout", src, wt.dir); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("clone %s for a clean checkout of %s: %w", src, commit, err)
	}
	if _, err := gitexec.Output(ctx, wt.dir, "checkout", "--quiet", "--detach", commit); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("check out commit %s in a clean clone: %w", commit, err)
	}
	return wt, nil
}

// remove deletes the checkout.
func (w *cleanWorktree) remove() { os.RemoveAll(w.tmp) }
