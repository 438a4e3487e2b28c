package repro

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/hallmark-dev/hallmark/build/sandbox"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/internal/limits"
)

// Product is one build output compared across runs.
type Product struct {
	// Path is relative to the source root, with '/' separators.
	Path string `json:"path"`
	// Digests holds "sha256:<hex>" per run, control first; "" when a run
	// did not produce the file.
	Digests []string `json:"digests"`
	// Reproducible is true when every run produced the same digest.
	Reproducible bool `json:"reproducible"`
	// Image is true when the product is a container image (an OCI layout
	// directory or an image archive); its digests are manifest digests.
	Image bool `json:"image,omitempty"`
}

// Step is one bisection build.
type Step struct {
	// Variations were applied in this build (all others as in the control).
	Variations []Variation `json:"variations"`
	// Reproducible is true when its products matched the control's.
	Reproducible bool `json:"reproducible"`
}

// Result is the outcome of Run.
type Result struct {
	// Command is the build command.
	Command []string `json:"command"`
	// Runs is the number of builds compared (control and experiments).
	Runs int `json:"runs"`
	// Variations lists every requested variation and whether it was applied.
	Variations []Applied `json:"variations"`
	// Products lists every product with its digest per run.
	Products []Product `json:"products"`
	// Reproducible is true when every product matched in every run.
	Reproducible bool `json:"reproducible"`
	// Nondeterministic is true when a rebuild with no variation at all
	// differed from the control (randomness, map order, races).
	Nondeterministic bool `json:"nondeterministic,omitempty"`
	// Culprits are the variations that break reproducibility, found by
	// bisection. Several culprits are listed when each breaks it alone, or
	// when only their combination does.
	Culprits []Variation `json:"culprits,omitempty"`
	// Bisection lists the bisection builds in order.
	Bisection []Step `json:"bisection,omitempty"`
	// ProductDirs holds the kept products of each run (control first), for
	// explaining differences with repro/diff.
	ProductDirs []string `json:"productDirs"`
	// WorkDir holds the build copies and kept products.
	WorkDir string `json:"workDir"`
	// Sandboxed is true when every build ran in the namespace sandbox
	// (WithSandbox).
	Sandboxed bool `json:"sandboxed"`
	// SandboxFallback says why the builds ran without the sandbox that
	// was asked for (Sandbox.FallbackUnsafe).
	SandboxFallback string `json:"sandboxFallback,omitempty"`

	ownsWorkDir bool
}

// Cleanup removes the work directory when Run created it.
func (r *Result) Cleanup() error {
	if r.ownsWorkDir {
		return os.RemoveAll(r.WorkDir)
	}
	return nil
}

// Run builds the source tree src with command at least twice under varied
// conditions and compares the products. command runs with the copy of src
// as its working directory. An error is returned when a build fails or the
// context ends; a non-reproducible build is a successful Run whose Result
// says so.
func Run(ctx context.Context, src string, command []string, opts ...Option) (*Result, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if len(command) == 0 {
		return nil, fmt.Errorf("%w: empty build command", ErrInvalid)
	}
	fi, err := os.Stat(src)
	if err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("%w: source %s is not a directory (%v)", ErrInvalid, src, err)
	}
	res := &Result{Command: command, Runs: cfg.runs}
	work := cfg.workDir
	if work == "" {
		if work, err = os.MkdirTemp("", "hallmark-repro-"); err != nil {
			return nil, fmt.Errorf("repro work directory: %w", err)
		}
		res.ownsWorkDir = true
	}
	if work, err = filepath.Abs(work); err != nil {
		return nil, err
	}
	res.WorkDir = work
	r := &runner{cfg: cfg, src: src, cmd: command, work: work}
	if r.srcDigests, err = digestTree(ctx, src); err != nil {
		return nil, fmt.Errorf("hash source %s: %w", src, err)
	}
	defer func() {
		res.Sandboxed = cfg.sandbox != nil && r.fallback == ""
		res.SandboxFallback = r.fallback
	}()
	res.Variations = r.probe(ctx)
	for _, a := range res.Variations {
		if a.Applied {
			r.applied = append(r.applied, a.Variation)
		}
	}

	control, dir, err := r.build(ctx, "control", nil, true)
	if err != nil {
		return res, err
	}
	r.control = control
	runs := []map[string]string{control}
	res.ProductDirs = append(res.ProductDirs, dir)
	for i := 1; i < cfg.runs; i++ {
		got, dir, err := r.build(ctx, "experiment-"+strconv.Itoa(i), r.applied, true)
		if err != nil {
			return res, err
		}
		runs = append(runs, got)
		res.ProductDirs = append(res.ProductDirs, dir)
	}
	res.Products, res.Reproducible = compareRuns(runs)
	for i := range res.Products {
		res.Products[i].Image = r.images[res.Products[i].Path]
	}
	if res.Reproducible || !cfg.bisect {
		return res, nil
	}

	// Is it non-deterministic even without variations?
	again, _, err := r.build(ctx, "control-again", nil, false)
	if err != nil {
		return res, err
	}
	if !sameProducts(control, again) {
		res.Nondeterministic = true
		res.Bisection = append(res.Bisection, Step{Variations: []Variation{}, Reproducible: false})
		return res, nil
	}
	res.Bisection = append(res.Bisection, Step{Variations: []Variation{}, Reproducible: true})
	culprits, err := r.bisect(ctx, r.applied, res)
	if err != nil {
		return res, err
	}
	res.Culprits = culprits
	return res, nil
}

type runner struct {
	cfg        config
	src        string
	cmd        []string
	work       string
	srcDigests map[string]string
	applied    []Variation
	control    map[string]string
	unshare    []string // unshare prefix for hostname/user, decided by probe
	faketime   string
	taskset    string
	sh         string
	disorderfs string // set when a disorderfs mount works here
	fusermount string
	seq        int
	// fallback is set once the sandbox turned out to be unavailable.
	fallback string
	images   map[string]bool // products that are container images
}

// progressLine says which build starts: its number, its label and the
// variations applied.
func progressLine(seq int, label string, vary []Variation) string {
	what := "no variations"
	if len(vary) > 0 {
		names := make([]string, len(vary))
		for i, v := range vary {
			names[i] = string(v)
		}
		what = "varying " + strings.Join(names, ", ")
	}
	return fmt.Sprintf("build %d (%s): %s", seq, label, what)
}

// bisect finds the variations in set that break reproducibility.
func (r *runner) bisect(ctx context.Context, set []Variation, res *Result) ([]Variation, error) {
	if len(set) <= 1 {
		return set, nil
	}
	halves := [][]Variation{set[:len(set)/2], set[len(set)/2:]}
	var out []Variation
	broke := 0
	for _, h := range halves {
		got, _, err := r.build(ctx, "bisect", h, false)
		if err != nil {
			return nil, err
		}
		same := sameProducts(r.control, got)
		res.Bisection = append(res.Bisection, Step{Variations: h, Reproducible: same})
		if same {
			continue
		}
		broke++
		sub, err := r.bisect(ctx, h, res)
		if err != nil {
			return nil, err
		}
		out = append(out, sub...)
	}
	if broke == 0 {
		// Only the combination breaks it.
		return set, nil
	}
	return out, nil
}

func compareRuns(runs []map[string]string) ([]Product, bool) {
	var names []string
	for _, run := range runs {
		for n := range run {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	slices.Sort(names)
	all := true
	out := make([]Product, 0, len(names))
	for _, n := range names {
		p := Product{Path: n, Reproducible: true}
		for _, run := range runs {
			p.Digests = append(p.Digests, run[n])
			if run[n] != runs[0][n] || run[n] == "" {
				p.Reproducible = false
			}
		}
		all = all && p.Reproducible
		out = append(out, p)
	}
	return out, all && len(out) > 0
}

func sameProducts(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// build copies the source to a fresh directory, runs the command with the
// given variations applied, and returns the product digests (and, with
// keep, the directory the products were copied to).
func (r *runner) build(ctx context.Context, label string, vary []Variation, keep bool) (map[string]string, string, error) {
	on := func(v Variation) bool { return slices.Contains(vary, v) }
	r.seq++
	dir := filepath.Join(r.work, "build", "src")
	if on(VaryBuildPath) {
		dir = filepath.Join(r.work, "variant-build-path", "deeper", "source-tree")
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, "", err
	}
	if on(VaryFileOrder) && r.disorderfs != "" {
		// Build in a disorderfs view of the copy, at the same path.
		under := dir + ".under"
		if err := os.RemoveAll(under); err != nil {
			return nil, "", err
		}
		if err := copyTree(ctx, r.src, under, false); err != nil {
			return nil, "", fmt.Errorf("copy source for %s: %w", label, err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, "", err
		}
		if err := r.mount(ctx, under, dir); err != nil {
			return nil, "", fmt.Errorf("disorderfs for %s: %w", label, err)
		}
		defer func() {
			// The context may be done; unmount regardless.
			if err := r.unmount(context.WithoutCancel(ctx), dir); err != nil {
				r.cfg.log.WarnContext(ctx, "repro: unmount disorderfs", "dir", dir, "err", err)
			}
			os.RemoveAll(under)
		}()
	} else if err := copyTree(ctx, r.src, dir, on(VaryFileOrder)); err != nil {
		return nil, "", fmt.Errorf("copy source for %s: %w", label, err)
	}
	home := filepath.Join(r.work, "home", "first-build")
	if on(VaryHome) {
		home = filepath.Join(r.work, "home", "second-build")
	}
	if err := os.MkdirAll(home, 0o755); err != nil {
		return nil, "", err
	}
	argv, env := r.command(vary, home)
	r.cfg.log.InfoContext(ctx, "repro build", "run", label, "dir", dir, "variations", vary)
	r.cfg.progress(progressLine(r.seq, label, vary))
	var out tailBuffer
	if err := r.run(ctx, argv, env, dir, home, &out); err != nil {
		return nil, "", &BuildError{Run: label, Dir: dir, Err: err, Output: out.String()}
	}
	var keepDir string
	if keep {
		keepDir = filepath.Join(r.work, "products", fmt.Sprintf("%02d-%s", r.seq, label))
	}
	got, err := r.collect(ctx, dir, keepDir)
	if err != nil {
		return nil, "", fmt.Errorf("collect products of %s: %w", label, err)
	}
	if on(VaryFileOrder) && r.disorderfs != "" {
		return got, keepDir, nil // the deferred unmount removes the copy
	}
	return got, keepDir, os.RemoveAll(dir)
}

// run runs one build in dir: in the namespace sandbox when one was asked
// for (its copy of the source and its HOME writable, nothing else), else
// in its own session, without the caller's terminal and outside its
// process group, like `hallmark build --sandbox off`.
func (r *runner) run(ctx context.Context, argv, env []string, dir, home string, out io.Writer) error {
	if sb := r.cfg.sandbox; sb != nil && r.fallback == "" {
		code, err := sandbox.Run(ctx, sandbox.Config{
			Helper: sb.Helper, Argv: argv, Env: env, Dir: dir,
			SourceDir: dir, WritableDirs: []string{dir, home}, ReadOnlyPaths: sb.ReadOnlyPaths,
			Network: sb.Network, Stdout: out, Stderr: out,
		})
		var se *sandbox.SetupError
		switch {
		case errors.As(err, &se) && sb.FallbackUnsafe:
			r.fallback = err.Error()
			r.cfg.log.WarnContext(ctx, "repro: sandbox unavailable, building without it", "reason", err)
		case err != nil:
			return err
		case code != 0:
			return fmt.Errorf("exit status %d", code)
		default:
			return nil
		}
	}
	cmd := sandbox.Command(ctx, argv)
	cmd.Dir, cmd.Env = dir, env
	cmd.Stdout, cmd.Stderr = out, out
	return sandbox.RunDetached(cmd)
}

// setUTS sets the host and NIS domain names inside the new UTS namespace.
const setUTS = `hostname hallmark-experiment && printf hallmark-experiment.invalid > /proc/sys/kernel/domainname`

// command builds the argv and environment of one build.
func (r *runner) command(vary []Variation, home string) ([]string, []string) {
	on := func(v Variation) bool { return slices.Contains(vary, v) }
	env := slices.DeleteFunc(slices.Clone(r.cfg.env), func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		return k == "HOME" || k == "LANG" || k == "LANGUAGE" || k == "TZ" || k == "GOMAXPROCS" ||
			k == "HALLMARK_REPRO_EXTRA" || strings.HasPrefix(k, "LC_")
	})
	env = append(env, "HOME="+home)
	if on(VaryEnvironment) {
		env = append(env, "HALLMARK_REPRO_EXTRA=experiment")
	}
	if on(VaryLocale) {
		env = append(env, "LANG=fr_CH.UTF-8", "LC_ALL=fr_CH.UTF-8", "LANGUAGE=fr_CH:fr")
	} else {
		env = append(env, "LANG=C.UTF-8", "LC_ALL=C.UTF-8")
	}
	if on(VaryTimezone) {
		env = append(env, "TZ=GMT-14")
	} else {
		env = append(env, "TZ=GMT+12")
	}
	if on(VaryCPUs) {
		env = append(env, "GOMAXPROCS=1")
	}
	umask := "0022"
	if on(VaryUmask) {
		umask = "0002"
	}
	var argv []string
	hostname, user := on(VaryHostname), on(VaryUser)
	switch {
	case hostname && user:
		argv = append(argv, r.unshare...)
		argv = append(argv, "--uts", "--", r.sh, "-c",
			setUTS+` && exec unshare --user --map-user=4242 --map-group=4242 -- "$@"`, "sh")
	case hostname:
		argv = append(argv, r.unshare...)
		argv = append(argv, "--uts", "--", r.sh, "-c", setUTS+` && exec "$@"`, "sh")
	case user:
		argv = append(argv, r.unshare[0], "--user", "--map-user=4242", "--map-group=4242", "--")
	}
	if on(VaryTime) {
		argv = append(argv, r.faketime, "-f", "+373d")
	}
	if on(VaryCPUs) && r.taskset != "" {
		argv = append(argv, r.taskset, "-c", "0")
	}
	argv = append(argv, r.sh, "-c", `umask `+umask+` && exec "$@"`, "sh")
	argv = append(argv, r.cmd...)
	return argv, env
}

// collect hashes the products in dir and copies them to keepDir.
func (r *runner) collect(ctx context.Context, dir, keepDir string) (map[string]string, error) {
	all, err := digestTree(ctx, dir)
	if err != nil {
		return nil, err
	}
	all, images, err := imageOutputs(ctx, dir, all)
	if err != nil {
		return nil, err
	}
	if r.images == nil {
		r.images = map[string]bool{}
	}
	out := make(map[string]string)
	for rel, sum := range all {
		if len(r.cfg.products) > 0 {
			if !slices.ContainsFunc(r.cfg.products, func(g string) bool {
				m1, _ := path.Match(g, rel)
				m2, _ := path.Match(g, path.Base(rel))
				return m1 || m2
			}) {
				continue
			}
		} else if r.srcDigests[rel] == sum {
			continue // an unchanged source file
		}
		out[rel] = sum
		if images[rel] {
			r.images[rel] = true
		}
		if keepDir != "" && images[rel] && !strings.HasSuffix(rel, ".tar") {
			if err := copyTree(ctx, filepath.Join(dir, filepath.FromSlash(rel)), filepath.Join(keepDir, filepath.FromSlash(rel)), false); err != nil {
				return nil, err
			}
			continue
		}
		if keepDir != "" {
			if err := copyFile(filepath.Join(dir, filepath.FromSlash(rel)), filepath.Join(keepDir, filepath.FromSlash(rel))); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// digestTree hashes every regular file under root with digest.Tree (an
// os.Root walk that never follows a link and skips .git), as "sha256:<hex>"
// by slash path.
func digestTree(ctx context.Context, root string) (map[string]string, error) {
	l, err := digest.Tree(ctx, root, digest.WithoutGitignore())
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(l.Entries))
	for _, e := range l.Entries {
		if e.Kind == digest.KindFile {
			out[e.Path] = "sha256:" + e.Digest[digest.SHA256]
		}
	}
	return out, nil
}

// copyTree copies regular files, directories and symbolic links from src to
// dst, keeping permission bits. With reverse, entries are created in reverse
// name order, which changes the directory order seen by readdir on file
// systems that return entries in creation order.
func copyTree(ctx context.Context, src, dst string, reverse bool) error {
	type item struct {
		rel  string
		mode fs.FileMode
	}
	var items []item
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		items = append(items, item{rel, d.Type()})
		return nil
	})
	if err != nil {
		return err
	}
	if reverse {
		// Directories must still precede their contents: order by depth,
		// then by reverse name within a depth.
		depth := func(rel string) int {
			if rel == "." {
				return -1
			}
			return strings.Count(rel, string(filepath.Separator))
		}
		slices.SortStableFunc(items, func(a, b item) int {
			if da, db := depth(a.rel), depth(b.rel); da != db {
				return da - db
			}
			return strings.Compare(b.rel, a.rel)
		})
	}
	for _, it := range items {
		if err := ctx.Err(); err != nil {
			return err
		}
		from, to := filepath.Join(src, it.rel), filepath.Join(dst, it.rel)
		switch {
		case it.mode.IsDir():
			fi, err := os.Stat(from)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(to, fi.Mode().Perm()|0o700); err != nil {
				return err
			}
		case it.mode&fs.ModeSymlink != 0:
			target, err := os.Readlink(from)
			if err != nil {
				return err
			}
			if err := os.Symlink(target, to); err != nil {
				return err
			}
		case it.mode.IsRegular():
			if err := copyFile(from, to); err != nil {
				return err
			}
		}
	}
	return nil
}

func copyFile(from, to string) error {
	in, err := limits.OpenFile(from)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, fi.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chmod(to, fi.Mode().Perm())
}

// tailBuffer keeps the last 8 KiB of a build's output.
type tailBuffer struct{ b bytes.Buffer }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b.Write(p)
	if t.b.Len() > 16<<10 {
		keep := bytes.Clone(t.b.Bytes()[t.b.Len()-8<<10:])
		t.b.Reset()
		t.b.Write(keep)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return t.b.String() }
