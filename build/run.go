package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/hallmark-dev/hallmark/build/materials"
	"github.com/hallmark-dev/hallmark/build/sandbox"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/provenance"
)

// defaultPath is used when the caller's environment has no PATH.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Run executes spec.Command and records the facts of the build. A command
// that exits non-zero returns an *ExitError and no Result.
func Run(ctx context.Context, spec Spec) (*Result, error) {
	s, err := normalize(spec)
	if err != nil {
		return nil, err
	}
	log := s.Logger
	src := s.SourceDir
	workAbs := filepath.Join(src, filepath.FromSlash(s.WorkDir))

	// The output and in-tree cache directories are not source: untracked
	// files there do not make the tree dirty.
	notSource := slices.Clone(s.OutputDirs)
	for _, d := range s.CacheDirs {
		if rel, err := filepath.Rel(src, d); err == nil && rel != "." && !strings.HasPrefix(rel, "..") {
			notSource = append(notSource, filepath.ToSlash(rel))
		}
	}
	// This first reading gives the commit (and its time, the default
	// SOURCE_DATE_EPOCH); the state of the tree is read again after the
	// preparation steps, which may change it.
	source, err := gitSource(ctx, src, notSource)
	if err != nil {
		return nil, fmt.Errorf("build: read source %s: %w", src, err)
	}

	start := s.Now()
	sde := start.Unix()
	switch {
	case s.SourceDateEpoch != nil:
		sde = s.SourceDateEpoch.Unix()
	case !source.CommitTime.IsZero():
		sde = source.CommitTime.Unix()
	}

	for _, d := range s.OutputDirs {
		if err := os.MkdirAll(filepath.Join(src, d), 0o755); err != nil {
			return nil, fmt.Errorf("build: create output directory %s: %w", d, err)
		}
	}
	before, err := snapshot(src, s.OutputDirs)
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}

	home, err := os.MkdirTemp("", "hallmark-home-")
	if err != nil {
		return nil, fmt.Errorf("build: create HOME: %w", err)
	}
	defer os.RemoveAll(home)

	fixed := map[string]string{
		"SOURCE_DATE_EPOCH": strconv.FormatInt(sde, 10),
		"TZ":                "UTC",
		"LANG":              "C.UTF-8",
		"HOME":              home,
	}
	if s.GoModCache != "" {
		fixed["GOMODCACHE"] = s.GoModCache
		fixed["GOPROXY"] = "off"
		fixed["GOTOOLCHAIN"] = "local"
	}
	for k, v := range s.SetEnv {
		fixed[k] = v
	}
	if !slices.Contains(s.EnvAllowlist, "PATH") {
		if _, ok := fixed["PATH"]; !ok {
			fixed["PATH"] = defaultPath
		}
	}
	plan := planEnv(s.Env, s.EnvAllowlist, fixed, s.IsSecret)
	path := envValue(plan.env, "PATH")
	if path == "" {
		path = defaultPath
	}

	resolved, err := lookPath(s.Command[0], path, workAbs)
	if err != nil {
		return nil, err
	}
	toolPaths, goroot, err := toolchainPaths(ctx, resolved, s.Command, path, workAbs, plan.env)
	if err != nil {
		return nil, fmt.Errorf("build: toolchain: %w", err)
	}

	// O_NOFOLLOW: a link planted at the log's path (by an earlier build,
	// when --out lies in an output directory) must not make hallmark
	// truncate and overwrite the file it points to.
	logFile, err := os.OpenFile(s.LogFile, os.O_CREATE|os.O_WRONLY|os.O_TRUNC|oNoFollow, 0o644)
	if err != nil {
		return nil, fmt.Errorf("build: open log: %w", err)
	}
	defer logFile.Close()
	logHash := sha256.New()
	counter := &countWriter{}
	sinks := []io.Writer{logFile, logHash, counter}
	if s.Stdout != nil {
		sinks = append(sinks, s.Stdout)
	}
	out := io.MultiWriter(sinks...)

	res := &Result{
		InvocationID:    uuid.NewString(),
		Command:         slices.Clone(s.Command),
		WorkDir:         s.WorkDir,
		Source:          source,
		SourceDateEpoch: sde,
		Env:             plan.recorded,
		Redacted:        plan.redacted,
		ResolvedCommand: resolved,
		StartedOn:       start,
		OutputDirs:      slices.Clone(s.OutputDirs),
	}

	for i, step := range s.Prepare {
		code, err := runPrepare(ctx, step, workAbs, path, online(plan.env), out)
		if err != nil {
			return nil, fmt.Errorf("build: prepare step %d: %w", i+1, err)
		}
		if code != 0 {
			return nil, &ExitError{Step: fmt.Sprintf("prepare %d", i+1), Code: code, Log: s.LogFile}
		}
		res.Prepare = append(res.Prepare, provenance.Step{Command: slices.Clone(step), Network: true})
	}
	if len(s.Prepare) > 0 {
		// The build runs on the tree the preparation steps left: its state,
		// not the one before them, is the source state to record.
		after, err := gitSource(ctx, src, notSource)
		if err != nil {
			return nil, fmt.Errorf("build: read source %s after preparation: %w", src, err)
		}
		if after.Commit != source.Commit {
			return nil, fmt.Errorf("%w: the preparation steps moved the checkout from commit %s to %s", ErrSourceChanged, orNone(source.Commit), orNone(after.Commit))
		}
		after.CommitTime = source.CommitTime
		source = after
		res.Source = source
	}
	// Tracked files the build command changes are noticed by comparing
	// their state now and after it.
	tracked, err := trackedState(ctx, src, notSource)
	if err != nil {
		return nil, fmt.Errorf("build: read source %s: %w", src, err)
	}
	shared := sharedWritable(s, before)

	// Hashing the source tree (for lockfiles and the dirHash) and the
	// toolchain binaries (after the preparation steps, which may change the
	// tree) overlaps with the command when the sandbox keeps
	// the source read-only; otherwise the tree is hashed first. The
	// goroutines are always waited for before Run returns.
	var bg sync.WaitGroup
	defer bg.Wait()
	var (
		tree     *digest.Listing
		treeErr  error
		treeDone = make(chan struct{})
		tools    []provenance.Artifact
		toolsErr error
	)
	var deps []materials.Dependency
	var depsErr error
	bg.Go(func() {
		defer close(treeDone)
		tree, treeErr = sourceTree(ctx, src, s.OutputDirs, s.CacheDirs, s.MaterialExcludes)
		if treeErr != nil {
			return
		}
		// The lockfiles are read with the tree, before an unsandboxed
		// command could rewrite them, so the materials describe the tree
		// the dirHash pins.
		var lockfiles []string
		for _, e := range tree.Entries {
			if e.Kind == digest.KindFile && materials.IsLockfile(e.Path) && !fixtureOrDependency(e.Path) {
				lockfiles = append(lockfiles, e.Path)
			}
		}
		deps, depsErr = materials.Read(src, lockfiles)
	})
	toolsDone := make(chan struct{})
	bg.Go(func() { defer close(toolsDone); tools, toolsErr = hashTools(toolPaths) })
	if s.Sandbox == SandboxOff {
		// Without the sandbox the command could change the tree and the
		// toolchain while they are hashed.
		<-treeDone
		<-toolsDone
	}

	argv := append([]string{resolved}, s.Command[1:]...)
	sb := provenance.Sandbox{Requested: string(s.Sandbox), Network: true}
	var code int
	ranSandboxed := false
	if s.Sandbox != SandboxOff {
		cfg := sandbox.Config{
			Helper:    s.SandboxHelper,
			Argv:      argv,
			Env:       withHome(plan.env, sandbox.Home),
			Dir:       workAbs,
			SourceDir: src,
			Network:   s.Network,
			Stdout:    out,
			Stderr:    out,
		}
		for _, d := range s.OutputDirs {
			cfg.WritableDirs = append(cfg.WritableDirs, filepath.Join(src, d))
		}
		cfg.WritableDirs = append(cfg.WritableDirs, s.CacheDirs...)
		cfg.ReadOnlyPaths = slices.Clone(s.ReadOnlyPaths)
		if s.GoModCache != "" {
			cfg.ReadOnlyPaths = append(cfg.ReadOnlyPaths, s.GoModCache)
		}
		if goroot != "" && !underAny(goroot, []string{"/usr", src}) {
			cfg.ReadOnlyPaths = append(cfg.ReadOnlyPaths, goroot)
		}
		log.Info("running build in sandbox", "namespaces", cfg.Namespaces(), "network", s.Network)
		code, err = sandbox.Run(ctx, cfg)
		var se *sandbox.SetupError
		switch {
		case errors.As(err, &se) && s.Sandbox == SandboxAuto:
			log.Warn("sandbox unavailable, running without it", "reason", err)
			sb.FallbackReason = err.Error()
			<-treeDone // the unsandboxed command could write to the tree
			<-toolsDone
		case errors.As(err, &se):
			return nil, fmt.Errorf("%w: %w (use --sandbox auto to fall back, or --sandbox off)", ErrSandboxUnavailable, err)
		case err != nil:
			return nil, fmt.Errorf("build: %w", err)
		default:
			ranSandboxed = true
			sb = provenance.Sandbox{
				Requested: string(s.Sandbox), Applied: true, Namespaces: cfg.Namespaces(), Network: s.Network,
				ReadOnlySource: true, WritableDirs: relPaths(src, cfg.WritableDirs), ReadOnlyMounts: cfg.ReadOnlyPaths,
			}
		}
	}
	if !ranSandboxed {
		log.Info("running build without sandbox")
		code, err = runDirect(ctx, argv, workAbs, plan.env, out)
		if err != nil {
			return nil, fmt.Errorf("build: %w", err)
		}
	}
	res.FinishedOn = s.Now()
	sb.SharedWritable = shared
	res.Sandbox = sb
	if tracked != nil {
		now, err := trackedState(ctx, src, notSource)
		if err != nil {
			return nil, fmt.Errorf("build: read source %s after the build: %w", src, err)
		}
		res.Source.ModifiedByBuild = modifiedBetween(tracked, now)
	}
	bg.Wait()
	if treeErr != nil {
		return nil, fmt.Errorf("build: hash source tree: %w", treeErr)
	}
	if toolsErr != nil {
		return nil, fmt.Errorf("build: toolchain: %w", toolsErr)
	}
	res.Toolchain = tools
	res.Source.DirHash = tree.DirHash()
	for _, e := range tree.Entries {
		if e.Kind == digest.KindSymlink && e.OutsideTree {
			res.Source.ExternalSymlinks = append(res.Source.ExternalSymlinks, e.Path+" -> "+e.LinkTarget)
		}
	}
	if depsErr != nil {
		return nil, fmt.Errorf("build: %w", depsErr)
	}
	res.Dependencies = deps
	if err := logFile.Close(); err != nil {
		return nil, fmt.Errorf("build: close log: %w", err)
	}
	if code != 0 {
		return nil, &ExitError{Step: "build", Code: code, Log: s.LogFile}
	}
	res.Log = LogInfo{Path: s.LogFile, Digest: digest.Set{digest.SHA256: hex.EncodeToString(logHash.Sum(nil))}, Size: counter.n}

	res.Products, res.SkippedProducts, res.OutputFixes, err = products(ctx, src, s.Products, s.OutputDirs, before)
	if err != nil {
		return nil, fmt.Errorf("build: products: %w", err)
	}
	if res.Products, err = imageProducts(ctx, src, res.Products); err != nil {
		return nil, fmt.Errorf("build: products: %w", err)
	}
	for _, f := range res.OutputFixes {
		log.Warn("build output made safe", "path", f.Path, "action", f.Action)
		if s.Stdout != nil {
			fmt.Fprintf(s.Stdout, "hallmark: output %s\n", f)
		}
	}
	return res, nil
}

// sharedWritable lists the writable paths that outlive the build, where
// one build can leave something for another: every cache directory, and
// each output directory that already held files when the build started
// (before the preparation steps). Output directories are relative to the
// source root, cache directories absolute.
func sharedWritable(s Spec, before map[string]fileState) []string {
	var out []string
	for _, d := range s.OutputDirs {
		for p := range before {
			if strings.HasPrefix(p, d+"/") {
				out = append(out, d)
				break
			}
		}
	}
	return append(out, s.CacheDirs...)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// sourceTree hashes the source as the build sees it: .gitignore'd paths,
// the output directories and cache directories inside it, and the extra
// exclude patterns are left out.
func sourceTree(ctx context.Context, src string, outDirs, cacheDirs, extra []string) (*digest.Listing, error) {
	excludes := slices.Clone(extra)
	for _, d := range outDirs {
		excludes = append(excludes, "/"+strings.TrimSuffix(d, "/")+"/")
	}
	for _, d := range cacheDirs {
		if rel, err := filepath.Rel(src, d); err == nil && !strings.HasPrefix(rel, "..") && rel != "." {
			excludes = append(excludes, "/"+filepath.ToSlash(rel)+"/")
		}
	}
	return digest.Tree(ctx, src, digest.WithExcludes(excludes...))
}

// Facts converts the result into provenance facts. builderID may be empty
// for provenance.DefaultBuilderID; logName names the log byproduct.
func (r *Result) Facts(builderID, logName string) provenance.Facts {
	f := provenance.Facts{
		BuilderID:    builderID,
		InvocationID: r.InvocationID,
		Command:      r.Command,
		WorkDir:      r.WorkDir,
		Source: provenance.Source{URI: r.Source.URI, Commit: r.Source.Commit, Ref: r.Source.Ref, Dirty: r.Source.Dirty,
			ModifiedByBuild: r.Source.ModifiedByBuild, DirHash: r.Source.DirHash, ExternalSymlinks: r.Source.ExternalSymlinks},
		Sandbox:         r.Sandbox,
		SourceDateEpoch: r.SourceDateEpoch,
		Env:             r.Env,
		Redacted:        r.Redacted,
		Prepare:         r.Prepare,
		OutputFixes:     fixStrings(r.OutputFixes),
		OutputDirs:      r.OutputDirs,
		Toolchain:       r.Toolchain,
		Log:             &provenance.Artifact{Name: logName, Digest: r.Log.Digest},
		StartedOn:       r.StartedOn,
		FinishedOn:      r.FinishedOn,
	}
	for _, d := range r.Dependencies {
		f.Dependencies = append(f.Dependencies, provenance.Dependency{URI: d.PURL, Digest: d.Digest, Origin: d.Origin})
	}
	for _, p := range r.Products {
		a := provenance.Artifact{Name: p.Name, Digest: p.Digest}
		if p.Image != nil {
			// An image subject is named by its repository; the same image
			// written twice (a layout and an archive) is one subject.
			a.Name = p.Image.Name
			if slices.ContainsFunc(f.Products, func(b provenance.Artifact) bool { return b.Name == a.Name && maps.Equal(b.Digest, a.Digest) }) {
				continue
			}
		}
		f.Products = append(f.Products, a)
	}
	return f
}

func normalize(spec Spec) (Spec, error) {
	s := spec
	if len(s.Command) == 0 || s.Command[0] == "" {
		return s, fmt.Errorf("%w: empty command", ErrSpec)
	}
	if s.SourceDir == "" {
		return s, fmt.Errorf("%w: no source directory", ErrSpec)
	}
	if s.LogFile == "" {
		return s, fmt.Errorf("%w: no log file", ErrSpec)
	}
	abs, err := filepath.Abs(s.SourceDir)
	if err != nil {
		return s, fmt.Errorf("%w: source directory: %w", ErrSpec, err)
	}
	if abs, err = filepath.EvalSymlinks(abs); err != nil {
		return s, fmt.Errorf("%w: source directory: %w", ErrSpec, err)
	}
	s.SourceDir = abs
	if s.WorkDir == "" {
		s.WorkDir = "."
	}
	var err2 error
	if s.WorkDir, err2 = cleanRel(s.WorkDir); err2 != nil {
		return s, fmt.Errorf("%w: working directory: %w", ErrSpec, err2)
	}
	s.OutputDirs = slices.Clone(s.OutputDirs) // normalised below; the caller's slice stays as given
	for i, d := range s.OutputDirs {
		c, err := cleanRel(d)
		if err != nil || c == "." {
			return s, fmt.Errorf("%w: output directory %q must be a subdirectory of the source root", ErrSpec, d)
		}
		s.OutputDirs[i] = c
	}
	for _, p := range append(slices.Clone(s.CacheDirs), s.ReadOnlyPaths...) {
		if !filepath.IsAbs(p) {
			return s, fmt.Errorf("%w: %q must be absolute", ErrSpec, p)
		}
	}
	if s.GoModCache != "" && !filepath.IsAbs(s.GoModCache) {
		return s, fmt.Errorf("%w: module cache %q must be absolute", ErrSpec, s.GoModCache)
	}
	switch s.Sandbox {
	case "":
		s.Sandbox = SandboxAuto
	case SandboxOff, SandboxAuto, SandboxOn:
	default:
		return s, fmt.Errorf("%w: sandbox mode %q (want on, off or auto)", ErrSpec, s.Sandbox)
	}
	if s.Sandbox != SandboxOff && len(s.SandboxHelper) == 0 {
		return s, fmt.Errorf("%w: sandbox mode %s needs a SandboxHelper", ErrSpec, s.Sandbox)
	}
	if s.EnvAllowlist == nil {
		s.EnvAllowlist = DefaultEnvAllowlist
	}
	if s.IsSecret == nil {
		s.IsSecret = DefaultIsSecret
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// cleanRel cleans a slash path that must stay inside the source root.
func cleanRel(p string) (string, error) {
	c := filepath.ToSlash(filepath.Clean(filepath.FromSlash(p)))
	if filepath.IsAbs(p) || c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("%q is outside the source root", p)
	}
	return c, nil
}

// runDirect runs a command without the sandbox, but still detached from
// the caller's terminal and process group (sandbox.Command); whatever it
// leaves running in its process group is killed when it exits.
func runDirect(ctx context.Context, argv []string, dir string, env []string, out io.Writer) (int, error) {
	cmd := sandbox.Command(ctx, argv)
	cmd.Dir, cmd.Env = dir, env
	cmd.Stdout, cmd.Stderr = out, out
	err := sandbox.RunDetached(cmd)
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ctx.Err() != nil {
			return ee.ExitCode(), ctx.Err()
		}
		return ee.ExitCode(), nil
	}
	if err != nil {
		return -1, err
	}
	return 0, nil
}

func runPrepare(ctx context.Context, step []string, dir, path string, env []string, out io.Writer) (int, error) {
	if len(step) == 0 {
		return -1, fmt.Errorf("%w: empty prepare step", ErrSpec)
	}
	p, err := lookPath(step[0], path, dir)
	if err != nil {
		return -1, err
	}
	fmt.Fprintf(out, "hallmark: prepare: %s\n", strings.Join(step, " "))
	return runDirect(ctx, append([]string{p}, step[1:]...), dir, env, out)
}

// online drops the offline switch so preparation steps can fetch.
func online(env []string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool { return kv == "GOPROXY=off" })
}

func envValue(env []string, name string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}

func withHome(env []string, home string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if !strings.HasPrefix(kv, "HOME=") {
			out = append(out, kv)
		}
	}
	return append(out, "HOME="+home)
}

func underAny(p string, roots []string) bool {
	for _, r := range roots {
		if p == r || strings.HasPrefix(p, strings.TrimSuffix(r, "/")+"/") {
			return true
		}
	}
	return false
}

// relPaths renders paths inside src relative to it, others unchanged.
func relPaths(src string, ps []string) []string {
	var out []string
	for _, p := range ps {
		if rel, err := filepath.Rel(src, p); err == nil && !strings.HasPrefix(rel, "..") {
			out = append(out, filepath.ToSlash(rel))
		} else {
			out = append(out, p)
		}
	}
	return out
}

func fixStrings(fs []OutputFix) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.String())
	}
	return out
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// fixtureOrDependency reports whether a lockfile sits under a testdata
// directory (test fixtures, which the Go tool and most test runners never
// build) or under node_modules (a dependency's own lockfile, already pinned by
// the project's). Neither describes what the build resolved, so neither is a
// material; the files are still hashed into the source tree's digest.
func fixtureOrDependency(p string) bool {
	for dir := range strings.SplitSeq(path.Dir(p), "/") {
		if dir == "testdata" || dir == "node_modules" {
			return true
		}
	}
	return false
}
