package oci

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// Defaults of NewResolver.
const (
	// DefaultTimeout bounds one resolution (every request it makes). Keep
	// it below the admission budget.
	DefaultTimeout = 2 * time.Second
	// DefaultCacheTTL is how long a resolved tag is remembered.
	DefaultCacheTTL = 30 * time.Second
	// DefaultCacheSize bounds the remembered tags.
	DefaultCacheSize = 1024
	// DefaultMaxManifestBytes bounds every registry response body. The
	// OCI distribution specification asks registries to accept manifests
	// of at least 4 MiB; larger ones are rare.
	DefaultMaxManifestBytes = 4 << 20
	// MaxManifestBytes is the largest WithMaxManifestBytes accepts.
	MaxManifestBytes = 64 << 20
	// DefaultMaxBlobBytes bounds one blob (a layer, a config, a bundle)
	// read from a registry by Image and Referrers.
	DefaultMaxBlobBytes = 4 << 30
	// DefaultMaxReferrers bounds the referrers Referrers reads.
	DefaultMaxReferrers = 64
	// DefaultMaxInFlight bounds the resolutions talking to registries at
	// once.
	DefaultMaxInFlight = 32
)

// Option configures NewResolver.
type Option func(*config) error

type config struct {
	timeout      time.Duration
	cacheTTL     time.Duration
	cacheSize    int
	maxBytes     int64
	maxBlobBytes int64
	maxInFlight  int
	keychain     authn.Keychain
	dockerConfig string
	insecure     map[string]bool
	transport    http.RoundTripper
	rootCAs      *x509.CertPool
	now          func() time.Time
}

// WithTimeout bounds one resolution, HEAD and GET together.
func WithTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("oci.WithTimeout: %v is not positive", d)
		}
		c.timeout = d
		return nil
	}
}

// WithCache sets how long a resolved tag is remembered and how many are;
// a zero ttl or size disables the cache. Failures are never cached.
func WithCache(ttl time.Duration, size int) Option {
	return func(c *config) error {
		if ttl < 0 || size < 0 {
			return fmt.Errorf("oci.WithCache: ttl %v and size %d must not be negative", ttl, size)
		}
		c.cacheTTL, c.cacheSize = ttl, size
		return nil
	}
}

// WithMaxManifestBytes bounds every registry response body (default 4 MiB,
// at most 64 MiB).
func WithMaxManifestBytes(n int64) Option {
	return func(c *config) error {
		if n <= 0 || n > MaxManifestBytes {
			return fmt.Errorf("oci.WithMaxManifestBytes: %d: want 1..%d", n, MaxManifestBytes)
		}
		c.maxBytes = n
		return nil
	}
}

// WithMaxBlobBytes bounds every blob read from a registry (default 4 GiB).
func WithMaxBlobBytes(n int64) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("oci.WithMaxBlobBytes: %d is not positive", n)
		}
		c.maxBlobBytes = n
		return nil
	}
}

// WithMaxInFlight bounds the resolutions talking to registries at once;
// others wait (within their deadline).
func WithMaxInFlight(n int) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("oci.WithMaxInFlight: %d is not positive", n)
		}
		c.maxInFlight = n
		return nil
	}
}

// WithKeychain authenticates to registries with k (for example
// authn.DefaultKeychain, which reads the process's Docker config and
// environment). Without it, or WithDockerConfig, registries are asked
// anonymously.
func WithKeychain(k authn.Keychain) Option {
	return func(c *config) error {
		if k == nil {
			return errors.New("oci.WithKeychain: nil keychain")
		}
		c.keychain = k
		return nil
	}
}

// WithDockerConfig authenticates to registries with the "auths" of the
// Docker config.json at path (see ParseDockerConfig), read once by
// NewResolver.
func WithDockerConfig(path string) Option {
	return func(c *config) error {
		if path == "" {
			return errors.New("oci.WithDockerConfig: empty path")
		}
		c.dockerConfig = path
		return nil
	}
}

// WithPlainHTTPInsecure lets the resolver talk plain HTTP to the listed
// registries (host or host:port, as written in image references).
// Credentials sent to them travel in clear text and anyone on the path
// can answer with a digest of their choice. Every other registry is
// reached over HTTPS, including localhost and private addresses.
func WithPlainHTTPInsecure(registries ...string) Option {
	return func(c *config) error {
		for _, r := range registries {
			h := strings.ToLower(strings.TrimSpace(r))
			if _, err := name.NewRegistry(h, name.StrictValidation); err != nil || h == "" || strings.Contains(h, "/") {
				return fmt.Errorf("oci.WithPlainHTTPInsecure: %q is not a registry host[:port]", r)
			}
			c.insecure[h] = true
		}
		return nil
	}
}

// WithTransport sets the HTTP transport (for a private CA, a proxy). The
// resolver still enforces HTTPS and the response size limit on top of it.
func WithTransport(t http.RoundTripper) Option {
	return func(c *config) error {
		if t == nil {
			return errors.New("oci.WithTransport: nil transport")
		}
		c.transport = t
		return nil
	}
}

// WithRootCAs trusts exactly the certificates of pool for registries'
// TLS (for example the system's plus a private CA), instead of the
// system's. It cannot be combined with WithTransport.
func WithRootCAs(pool *x509.CertPool) Option {
	return func(c *config) error {
		if pool == nil {
			return errors.New("oci.WithRootCAs: nil pool")
		}
		c.rootCAs = pool
		return nil
	}
}

// WithClock sets the clock of the cache.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return errors.New("oci.WithClock: nil clock")
		}
		c.now = now
		return nil
	}
}
