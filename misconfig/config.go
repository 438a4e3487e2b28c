package misconfig

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"

	"gopkg.in/yaml.v3"

	"github.com/hallmark-dev/hallmark/internal/limits"
)

// Default bounds on untrusted input.
const (
	// DefaultMaxFileSize is the largest file Scan reads (1 MiB); larger
	// candidate files are reported as errors and skipped.
	DefaultMaxFileSize = 1 << 20
	// DefaultMaxFiles is the most candidate files Scan checks in one tree.
	DefaultMaxFiles = 100_000
	// maxConfigSize bounds a configuration file.
	maxConfigSize = 1 << 20
)

// ErrConfig is returned for an invalid configuration.
var ErrConfig = errors.New("invalid misconfig configuration")

// Config controls a scan. The zero value is usable: no registry allowlist
// (registry rules are off), no rule disabled, default size limits.
type Config struct {
	// AllowedRegistries lists registries (e.g. "ghcr.io") or repository
	// prefixes (e.g. "ghcr.io/acme") images may come from. "docker.io"
	// means Docker Hub. Empty turns the allowlist rules off.
	AllowedRegistries []string `yaml:"allowedRegistries" json:"allowedRegistries,omitempty"`
	// DisabledRules lists rule IDs whose findings are not reported at all.
	DisabledRules []string `yaml:"disabledRules" json:"disabledRules,omitempty"`
	// MaxFileSize bounds each file read; 0 means DefaultMaxFileSize.
	MaxFileSize int64 `yaml:"maxFileSize" json:"maxFileSize,omitempty"`
	// MaxFiles bounds the number of candidate files; 0 means DefaultMaxFiles.
	MaxFiles int `yaml:"maxFiles" json:"maxFiles,omitempty"`
	// Logger receives debug messages about skipped files; nil discards them.
	Logger *slog.Logger `yaml:"-" json:"-"`
}

// ParseConfig decodes a YAML configuration file and validates it: unknown
// fields and unknown rule IDs are errors, so a typo cannot silently leave a
// rule on or off.
func ParseConfig(r io.Reader) (Config, error) {
	data, err := limits.ReadAll(r, maxConfigSize, "configuration")
	if err != nil {
		return Config{}, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if err := c.validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

func (c *Config) validate() error {
	known := knownRuleIDs()
	for _, id := range c.DisabledRules {
		if !known[id] {
			return fmt.Errorf("%w: disabledRules: unknown rule ID %q", ErrConfig, id)
		}
	}
	if c.MaxFileSize < 0 || c.MaxFiles < 0 {
		return fmt.Errorf("%w: maxFileSize and maxFiles must not be negative", ErrConfig)
	}
	for _, r := range c.AllowedRegistries {
		if r == "" {
			return fmt.Errorf("%w: allowedRegistries: empty entry", ErrConfig)
		}
	}
	return nil
}

func (c *Config) maxFileSize() int64 {
	if c.MaxFileSize > 0 {
		return c.MaxFileSize
	}
	return DefaultMaxFileSize
}

func (c *Config) maxFiles() int {
	if c.MaxFiles > 0 {
		return c.MaxFiles
	}
	return DefaultMaxFiles
}

func (c *Config) disabled(id string) bool { return slices.Contains(c.DisabledRules, id) }

func knownRuleIDs() map[string]bool {
	m := map[string]bool{}
	for _, r := range Rules() {
		m[r.ID] = true
	}
	return m
}
