package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/hallmark-dev/hallmark/internal/limits"
)

// Fixed paths inside the sandbox.
const (
	// Home is the HOME directory inside the sandbox: an empty tmpfs.
	Home = "/home/build"
	// Hostname is the UTS host name inside the sandbox.
	Hostname = "hallmark-build"
)

// readyByte is written by the helper on the status pipe just before it
// executes the command.
const readyByte = 'R'

// maxConfig bounds the configuration read by the helper.
const maxConfig = 4 << 20

var (
	// ErrUnsupported reports that namespaces cannot be created here.
	ErrUnsupported = errors.New("sandbox: namespaces unavailable")
	// ErrConfig reports an unusable configuration.
	ErrConfig = errors.New("sandbox: invalid configuration")
)

// SetupError reports a failure to create the sandbox, before the command
// started. Callers in "auto" mode fall back to running without it.
type SetupError struct {
	Step string
	Err  error
}

func (e *SetupError) Error() string { return fmt.Sprintf("sandbox: %s: %v", e.Step, e.Err) }
func (e *SetupError) Unwrap() error { return e.Err }

// Config describes one sandboxed command. Paths are absolute host paths;
// they appear at the same paths inside the sandbox.
type Config struct {
	// Helper is the argv that starts the init helper, for example
	// {"/proc/self/exe", "__sandbox-init"}; the helper must call InitMain.
	Helper []string `json:"-"`
	// Argv is the command; Argv[0] must be an absolute path.
	Argv []string `json:"argv"`
	// Env is the complete environment of the command.
	Env []string `json:"env"`
	// Dir is the working directory.
	Dir string `json:"dir"`
	// SourceDir is mounted read-only.
	SourceDir string `json:"sourceDir"`
	// WritableDirs are mounted read-write (on top of SourceDir when inside it).
	WritableDirs []string `json:"writableDirs,omitempty"`
	// ReadOnlyPaths are extra paths mounted read-only, such as a module cache.
	ReadOnlyPaths []string `json:"readOnlyPaths,omitempty"`
	// Network keeps the host network namespace; by default the command
	// gets a new, empty one.
	Network bool `json:"network"`
	// Root is an empty host directory the helper mounts its new root on;
	// Run creates and removes one when empty.
	Root string `json:"root"`
	// Stdout and Stderr receive the command's output.
	Stdout io.Writer `json:"-"`
	Stderr io.Writer `json:"-"`
}

// Namespaces lists the namespaces a command with this configuration gets.
func (c *Config) Namespaces() []string {
	ns := []string{"user", "mount", "pid", "uts", "ipc"}
	if !c.Network {
		ns = append(ns, "net")
	}
	return ns
}

func (c *Config) validate() error {
	if len(c.Helper) == 0 {
		return fmt.Errorf("%w: no helper command (wire a hidden subcommand to sandbox.InitMain)", ErrConfig)
	}
	if len(c.Argv) == 0 || !filepath.IsAbs(c.Argv[0]) {
		return fmt.Errorf("%w: command must start with an absolute path, got %q", ErrConfig, c.Argv)
	}
	for _, p := range append([]string{c.Dir, c.SourceDir}, append(c.WritableDirs, c.ReadOnlyPaths...)...) {
		if !filepath.IsAbs(p) {
			return fmt.Errorf("%w: path %q is not absolute", ErrConfig, p)
		}
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%w: %w", ErrConfig, err)
		}
	}
	return nil
}

func decodeConfig(r io.Reader) (*Config, error) {
	var c Config
	data, err := limits.ReadAll(r, maxConfig, "sandbox configuration")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if len(c.Argv) == 0 || c.Root == "" || c.Dir == "" {
		return nil, fmt.Errorf("%w: missing argv, root or dir", ErrConfig)
	}
	return &c, nil
}
