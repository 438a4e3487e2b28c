package repro

import (
	"fmt"
	"log/slog"
	"os/exec"
	"path"
	"runtime"
)

type config struct {
	runs       int
	variations []Variation
	products   []string
	workDir    string
	env        []string
	lookPath   func(string) (string, error)
	log        *slog.Logger
	bisect     bool
	numCPU     int
	progress   func(string)
	sandbox    *Sandbox
}

func defaultConfig() config {
	return config{
		runs:       2,
		variations: AllVariations(),
		env:        []string{"PATH=/usr/local/bin:/usr/bin:/bin"},
		lookPath:   exec.LookPath,
		log:        slog.New(slog.DiscardHandler),
		bisect:     true,
		numCPU:     runtime.NumCPU(),
		progress:   func(string) {},
	}
}

// Option configures Run.
type Option func(*config) error

// WithRuns sets the number of builds: one control and runs-1 experiments
// (default 2, at least 2).
func WithRuns(n int) Option {
	return func(c *config) error {
		if n < 2 {
			return fmt.Errorf("%w: runs must be at least 2, got %d", ErrInvalid, n)
		}
		c.runs = n
		return nil
	}
}

// WithVariations sets the variations to apply (default AllVariations).
func WithVariations(vs ...Variation) Option {
	return func(c *config) error {
		if len(vs) == 0 {
			return fmt.Errorf("%w: no variations given; omit the option to vary everything", ErrInvalid)
		}
		c.variations = vs
		return nil
	}
}

// WithProducts names the build products by glob patterns matched against
// the path relative to the source root or against the base name (path.Match
// syntax). Without it every file the build created or changed is a product.
func WithProducts(globs ...string) Option {
	return func(c *config) error {
		for _, g := range globs {
			if _, err := path.Match(g, ""); err != nil {
				return fmt.Errorf("%w: product glob %q: %w", ErrInvalid, g, err)
			}
		}
		c.products = globs
		return nil
	}
}

// WithWorkDir sets the directory holding the build copies and the kept
// products (default: a new temporary directory, removed by Result.Cleanup).
func WithWorkDir(dir string) Option {
	return func(c *config) error { c.workDir = dir; return nil }
}

// WithEnv sets the base environment of every build (default: only PATH).
// Variables that Run controls (HOME, LANG, LC_*, LANGUAGE, TZ, GOMAXPROCS)
// are overridden.
func WithEnv(env []string) Option {
	return func(c *config) error { c.env = env; return nil }
}

// WithLookPath sets how tools (unshare, faketime, taskset, disorderfs) are
// found (default exec.LookPath).
func WithLookPath(f func(string) (string, error)) Option {
	return func(c *config) error {
		if f == nil {
			return fmt.Errorf("%w: nil look-path function", ErrInvalid)
		}
		c.lookPath = f
		return nil
	}
}

// WithLogger sets a logger for progress messages.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return fmt.Errorf("%w: nil logger", ErrInvalid)
		}
		c.log = l
		return nil
	}
}

// WithProgress sets a function told, in a short line, which build starts
// and with which variations, for a person watching a long run. The caller
// decides where the line goes (a terminal, nowhere).
func WithProgress(f func(msg string)) Option {
	return func(c *config) error {
		if f == nil {
			return fmt.Errorf("%w: nil progress function", ErrInvalid)
		}
		c.progress = f
		return nil
	}
}

// WithoutBisect skips bisection: Run reports which products differ but not
// which variation caused it.
func WithoutBisect() Option {
	return func(c *config) error { c.bisect = false; return nil }
}

// Sandbox says how Run isolates each build: in the Linux namespace sandbox
// of build/sandbox, as `hallmark build` runs its command. The build sees
// its copy of the source and its HOME read-write, the system read-only,
// and no network unless Network.
type Sandbox struct {
	// Helper is the argv that starts the sandbox init helper (see
	// sandbox.Config.Helper).
	Helper []string
	// Network keeps the host network.
	Network bool
	// ReadOnlyPaths are extra host paths visible read-only (a module cache).
	ReadOnlyPaths []string
	// FallbackUnsafe runs the builds without the sandbox when namespaces
	// are unavailable here, saying so in Result.SandboxFallback; without
	// it, Run fails instead.
	FallbackUnsafe bool
}

// WithSandbox runs every build in the sandbox s describes. Without it the
// builds run unisolated (only detached from the caller's terminal).
func WithSandbox(s Sandbox) Option {
	return func(c *config) error {
		if len(s.Helper) == 0 {
			return fmt.Errorf("%w: the sandbox needs a helper command (sandbox.Config.Helper)", ErrInvalid)
		}
		c.sandbox = &s
		return nil
	}
}
