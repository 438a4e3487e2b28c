package osvdb

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/hallmark-dev/hallmark/vuln/osv"
)

// DefaultMirrorEcosystems are fetched from an HTTP mirror when no ecosystem
// list is given: the ecosystems Hallmark inventories.
var DefaultMirrorEcosystems = []string{"Go", "npm", "PyPI", "crates.io", "Maven", "RubyGems", "Debian", "Alpine"}

type config struct {
	limits      osv.Limits
	maxFiles    int
	maxTotal    int64
	maxDownload int64
	client      *http.Client
	ecosystems  []string
	logger      *slog.Logger
}

// Option configures Import.
type Option func(*config) error

func newConfig(opts []Option) (*config, error) {
	c := &config{
		limits:      osv.DefaultLimits,
		maxFiles:    2_000_000,
		maxTotal:    16 << 30,
		maxDownload: 4 << 30,
		client:      http.DefaultClient,
		ecosystems:  DefaultMirrorEcosystems,
		logger:      slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// WithLimits sets the per-record decoding limits.
func WithLimits(l osv.Limits) Option {
	return func(c *config) error {
		if l.MaxBytes <= 0 {
			return errors.New("osvdb: WithLimits: MaxBytes must be positive")
		}
		c.limits = l
		return nil
	}
}

// WithMaxFiles bounds the number of records one import reads.
func WithMaxFiles(n int) Option {
	return func(c *config) error {
		if n <= 0 {
			return errors.New("osvdb: WithMaxFiles: must be positive")
		}
		c.maxFiles = n
		return nil
	}
}

// WithMaxDownload bounds the size of one all.zip fetched from a mirror.
func WithMaxDownload(n int64) Option {
	return func(c *config) error {
		if n <= 0 {
			return errors.New("osvdb: WithMaxDownload: must be positive")
		}
		c.maxDownload = n
		return nil
	}
}

// WithHTTPClient sets the client used for mirror downloads.
func WithHTTPClient(h *http.Client) Option {
	return func(c *config) error {
		if h == nil {
			return errors.New("osvdb: WithHTTPClient: nil client")
		}
		c.client = h
		return nil
	}
}

// WithEcosystems sets which ecosystems are fetched from an HTTP mirror.
func WithEcosystems(ecosystems ...string) Option {
	return func(c *config) error {
		if len(ecosystems) == 0 {
			return errors.New("osvdb: WithEcosystems: empty list")
		}
		for _, e := range ecosystems {
			if e == "" || e != osv.BaseEcosystem(e) {
				return errors.New("osvdb: WithEcosystems: want base ecosystem names like \"Go\" or \"PyPI\", got " + e)
			}
		}
		c.ecosystems = ecosystems
		return nil
	}
}

// WithLogger sets where progress is logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("osvdb: WithLogger: nil logger")
		}
		c.logger = l
		return nil
	}
}
