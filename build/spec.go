package build

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/hallmark-dev/hallmark/build/materials"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/provenance"
)

// SandboxMode selects whether the command runs in the Linux sandbox.
type SandboxMode string

// Sandbox modes.
const (
	// SandboxOff runs the command directly (still with a clean environment).
	SandboxOff SandboxMode = "off"
	// SandboxAuto uses the sandbox when namespaces are available and
	// records a fallback otherwise.
	SandboxAuto SandboxMode = "auto"
	// SandboxOn requires the sandbox and fails when it cannot be created.
	SandboxOn SandboxMode = "on"
)

var (
	// ErrSpec reports an unusable Spec.
	ErrSpec = errors.New("build: invalid spec")
	// ErrCommandNotFound reports a command that is not an executable file.
	ErrCommandNotFound = errors.New("build: command not found")
	// ErrNoProducts reports a product glob that matched nothing.
	ErrNoProducts = errors.New("build: no products")
	// ErrSandboxUnavailable reports that SandboxOn was asked for and the
	// sandbox could not be created.
	ErrSandboxUnavailable = errors.New("build: sandbox unavailable")
	// ErrSourceChanged reports preparation steps that checked out another
	// commit: the recorded commit would not be the one built.
	ErrSourceChanged = errors.New("build: source changed during preparation")
)

// ExitError reports a command (or a preparation step) that exited
// non-zero. No provenance is produced for it.
type ExitError struct {
	// Step is "build" or "prepare N".
	Step string
	// Code is the command's exit code (-1 when killed by a signal).
	Code int
	// Log is the path of the build log.
	Log string
}

func (e *ExitError) Error() string {
	return fmt.Sprintf("build: %s command exited with code %d (log: %s)", e.Step, e.Code, e.Log)
}

// Spec describes one build.
type Spec struct {
	// Command is the program and its arguments. Required.
	Command []string
	// SourceDir is the source root. Required.
	SourceDir string
	// WorkDir is the working directory relative to SourceDir (default ".").
	WorkDir string
	// Env is the caller's environment as KEY=VALUE pairs; only the
	// variables named by EnvAllowlist reach the build.
	Env []string
	// EnvAllowlist names the caller variables passed through (default
	// DefaultEnvAllowlist).
	EnvAllowlist []string
	// SetEnv adds variables with fixed values, for example GOFLAGS.
	SetEnv map[string]string
	// SourceDateEpoch is given to the build as SOURCE_DATE_EPOCH; by default
	// it is the commit time of the source, or the start time outside git.
	SourceDateEpoch *time.Time
	// Products are globs (relative to SourceDir; a directory match means
	// every file below it) naming the products.
	Products []string
	// OutputDirs (relative to SourceDir) are writable in the sandbox; the
	// files created or changed under them are products.
	OutputDirs []string
	// MaterialExcludes are extra gitignore-syntax patterns (from the source
	// root) for paths that are not materials, such as test fixtures holding
	// lockfiles: they are left out of the source dirHash and lockfile scan.
	MaterialExcludes []string
	// CacheDirs are absolute directories writable in the sandbox that are
	// not products, for example a GOCACHE shared between builds. They are
	// recorded as shared writable paths (sandbox.sharedWritable): one build
	// can leave in them what the next one reads, so such a build is not
	// isolated in the sense of SLSA Build L3.
	CacheDirs []string
	// ReadOnlyPaths are absolute paths made visible read-only in the sandbox.
	ReadOnlyPaths []string
	// GoModCache, when set, is mounted read-only and the build runs with
	// GOMODCACHE set to it, GOPROXY=off and GOTOOLCHAIN=local: Go
	// dependencies must have been fetched before (see Prepare).
	GoModCache string
	// Prepare lists commands run, in order, before the build, outside the
	// sandbox and with network access, to fetch dependencies. They are
	// recorded.
	Prepare [][]string
	// LogFile receives the build output (stdout and stderr interleaved).
	// Required.
	LogFile string
	// Stdout, when set, also receives the build output.
	Stdout io.Writer
	// Sandbox selects isolation (default SandboxAuto).
	Sandbox SandboxMode
	// Network lets the sandboxed command use the host network; recorded.
	Network bool
	// SandboxHelper is the argv that starts the sandbox init helper, for
	// example {"/proc/self/exe", "__sandbox-init"}. Required unless
	// Sandbox is SandboxOff.
	SandboxHelper []string
	// IsSecret decides which variables must never be recorded (default
	// DefaultIsSecret).
	IsSecret SecretFunc
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives progress messages (default: discarded).
	Logger *slog.Logger
}

// Result is everything recorded about a successful build.
type Result struct {
	InvocationID string   `json:"invocationId"`
	Command      []string `json:"command"`
	// ResolvedCommand is the absolute path of Command[0].
	ResolvedCommand string `json:"resolvedCommand"`
	// WorkDir is relative to the source root.
	WorkDir         string `json:"workDir"`
	Source          Source `json:"source"`
	SourceDateEpoch int64  `json:"sourceDateEpoch"`
	// Env holds the recordable variables given to the build; Redacted the
	// names of those whose values looked like credentials.
	Env      map[string]string `json:"env"`
	Redacted []string          `json:"redacted,omitempty"`
	// Sandbox is the isolation actually applied.
	Sandbox      provenance.Sandbox     `json:"sandbox"`
	Prepare      []provenance.Step      `json:"prepare,omitempty"`
	Dependencies []materials.Dependency `json:"dependencies,omitempty"`
	Toolchain    []provenance.Artifact  `json:"toolchain"`
	Log          LogInfo                `json:"log"`
	StartedOn    time.Time              `json:"startedOn"`
	FinishedOn   time.Time              `json:"finishedOn"`
	Products     []Product              `json:"products"`
	// SkippedProducts are matched paths that are not regular files.
	SkippedProducts []string `json:"skippedProducts,omitempty"`
	// OutputFixes are the changes made to the outputs before hashing:
	// cleared setuid/setgid/sticky bits, removed FIFOs, sockets and
	// devices.
	OutputFixes []OutputFix `json:"outputFixes,omitempty"`
	// OutputDirs are the output directories the build was given (relative
	// to the source root), recorded whether or not it ran sandboxed so a
	// rebuild looks for products in the same places.
	OutputDirs []string `json:"outputDirs,omitempty"`
}

// LogInfo locates and pins the build log.
type LogInfo struct {
	Path   string     `json:"path"`
	Digest digest.Set `json:"digest"`
	Size   int64      `json:"size"`
}
