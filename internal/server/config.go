package server

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/hallmark-dev/hallmark/admission"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/internal/limits"
	"github.com/hallmark-dev/hallmark/oci"
)

// ErrConfig is returned for an invalid configuration file.
var ErrConfig = errors.New("bad server configuration")

// MaxConfigBytes bounds the configuration file.
const MaxConfigBytes = 1 << 20

// Defaults of the configuration.
const (
	DefaultListen         = ":8443"
	DefaultRequestTimeout = 30 * time.Second
	DefaultCacheTTL       = time.Minute
	DefaultCacheSize      = 10_000
	DefaultPassphraseEnv  = "HALLMARK_PASSWORD"
)

// Role scopes a bearer token.
type Role string

// The token roles.
const (
	// RoleReader may read evidence and decisions.
	RoleReader Role = "reader"
	// RoleUploader may also upload bundles and ask the gate.
	RoleUploader Role = "uploader"
	// RoleAdmin may do everything.
	RoleAdmin Role = "admin"
)

// Config is the server configuration file (docs/server.md). Relative paths
// are resolved against the file's directory by LoadConfig.
type Config struct {
	// Listen is the address to listen on (default ":8443").
	Listen string `yaml:"listen"`
	// TLS names the server certificate and key (PEM files).
	TLS TLSConfig `yaml:"tls"`
	// Store selects the evidence store.
	Store StoreConfig `yaml:"store"`
	// Trust is the trust file uploads and evidence are verified against.
	Trust string `yaml:"trust"`
	// Policies maps each environment to its policy: "builtin:NAME", a
	// preset YAML file, or a .rego file or directory.
	Policies map[string]string `yaml:"policies"`
	// Gate configures the key that signs VSAs and decision records.
	Gate GateConfig `yaml:"gate"`
	// Auth configures bearer tokens.
	Auth AuthConfig `yaml:"auth"`
	// Admission configures the admission webhook.
	Admission AdmissionConfig `yaml:"admission"`
	// Limits bounds requests.
	Limits LimitsConfig `yaml:"limits"`
	// Transparency configures watching a transparency log (monitor.go).
	Transparency TransparencyConfig `yaml:"transparency"`
	// VulnDB is the OSV database directory (`hallmark db update`) whose
	// change log an incremental recheck reads; without it POST /v1/recheck
	// refuses {"incremental": true}.
	VulnDB string `yaml:"vulnDB"`
}

// TLSConfig names PEM files.
type TLSConfig struct {
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// StoreConfig selects the store driver.
type StoreConfig struct {
	// Driver is "sqlite" or "postgres".
	Driver string `yaml:"driver"`
	// Path is the SQLite database file.
	Path string `yaml:"path"`
	// DSN is the PostgreSQL connection string; DSNEnv names an environment
	// variable holding it instead (keeps passwords out of the file).
	DSN    string `yaml:"dsn"`
	DSNEnv string `yaml:"dsnEnv"`
}

// GateConfig names the gate's signing key.
type GateConfig struct {
	// Key is the encrypted private key file.
	Key string `yaml:"key"`
	// PassphraseEnv names the environment variable holding its passphrase
	// (default HALLMARK_PASSWORD).
	PassphraseEnv string `yaml:"passphraseEnv"`
	// VerifierID is written into VSAs.
	VerifierID string `yaml:"verifierId"`
	// VerifiedCacheMiB bounds the memory of verification results the gate
	// keeps (see gate.WithVerifiedCache); nil means the default,
	// DefaultVerifiedCacheMiB, and 0 turns the cache off.
	VerifiedCacheMiB *int `yaml:"verifiedCacheMiB"`
}

// DefaultMaxEvaluations bounds the admission webhook's gate evaluations in
// flight: at 500 cache misses a second a server has a handful in flight; a
// few hundred means the store or the CPU has stalled for half a second.
const DefaultMaxEvaluations = 256

// DefaultVerifiedCacheMiB is the default bound of the gate's cache of
// verification results.
const DefaultVerifiedCacheMiB = 32

// AuthConfig lists tokens and whether reads need one.
type AuthConfig struct {
	// OpenReads lets anyone read evidence and decisions. Writes always
	// need a token.
	OpenReads bool `yaml:"openReads"`
	// AdmissionToken lets callers of the admission endpoints authenticate
	// with a bearer token (any role): the API server's webhook kubeconfig
	// sends one.
	AdmissionToken bool `yaml:"admissionToken"`
	// AdmissionClientCA is a PEM file of the CA whose client certificates
	// may call the admission endpoints (mutual TLS: the API server's
	// webhook kubeconfig presents one). Needs tls.cert.
	AdmissionClientCA string `yaml:"admissionClientCA"`
	// InsecureAnonymousAdmission accepts admission reviews from anyone who
	// reaches the port. Every review the gate decides is recorded, so
	// anyone could add signed decision records (never an allow the policy
	// would not give) with a requester of their choosing. Only for
	// clusters whose API server cannot authenticate to webhooks, with the
	// port reachable from the API server alone.
	InsecureAnonymousAdmission bool `yaml:"insecureAnonymousAdmission"`
	// Tokens are the accepted bearer tokens, stored as SHA-256 hashes.
	Tokens []TokenConfig `yaml:"tokens"`
}

// TokenConfig is one accepted bearer token.
type TokenConfig struct {
	// Name identifies the holder in logs.
	Name string `yaml:"name"`
	// SHA256 is the lower-case hex SHA-256 of the token.
	SHA256 string `yaml:"sha256"`
	// Role is reader, uploader or admin.
	Role Role `yaml:"role"`
}

// AdmissionConfig maps namespaces to environments and bounds reviews.
type AdmissionConfig struct {
	// Namespaces maps namespace names to environments.
	Namespaces map[string]string `yaml:"namespaces"`
	// EnvironmentLabel is the namespace label naming the environment.
	EnvironmentLabel string `yaml:"environmentLabel"`
	// NamespaceLabels is a static copy of namespace labels: an
	// AdmissionReview carries only the namespace name.
	NamespaceLabels map[string]map[string]string `yaml:"namespaceLabels"`
	// DefaultEnvironment applies to unmapped namespaces; empty denies them.
	DefaultEnvironment string `yaml:"defaultEnvironment"`
	// Budget is how long a review may take (default 3s); keep it below the
	// webhook's timeoutSeconds.
	Budget time.Duration `yaml:"budget"`
	// CacheTTL and CacheSize bound the allow cache (defaults 1m, 10000);
	// a negative TTL disables it.
	CacheTTL  time.Duration `yaml:"cacheTTL"`
	CacheSize int           `yaml:"cacheSize"`
	// MaxEvaluations bounds the gate evaluations in flight across all
	// reviews (default DefaultMaxEvaluations); a review beyond it is denied
	// at once rather than queued until its budget runs out.
	MaxEvaluations int `yaml:"maxEvaluations"`
	// Resolve lets images referenced by tag only be admitted.
	Resolve ResolveConfig `yaml:"resolve"`
	// RegistryEvidence also gathers the Sigstore bundles attached to each
	// image in its registry (OCI referrers), reached with the registry
	// settings of Resolve (dockerConfig, caFile, insecureRegistries).
	RegistryEvidence RegistryEvidenceConfig `yaml:"registryEvidence"`
}

// RegistryEvidenceConfig configures reading the evidence attached to images
// in their registry. The bundles are verified like stored ones before they
// count; a registry that cannot be read denies the image.
type RegistryEvidenceConfig struct {
	Enabled bool `yaml:"enabled"`
	// MaxBundles bounds the bundles read per image (default
	// oci.DefaultMaxReferrers); more attached is a deny, not a silent cut.
	MaxBundles int `yaml:"maxBundles"`
	// Timeout bounds reading one image's bundles (default 2s, within the
	// admission budget).
	Timeout time.Duration `yaml:"timeout"`
}

// ResolveConfig configures resolving tag-only images to the digest of
// their manifest (oci.Resolver), which the gate then decides about.
type ResolveConfig struct {
	// Enabled resolves tag-only images; when false they are denied.
	Enabled bool `yaml:"enabled"`
	// Timeout bounds one resolution (default 2s); it must be below
	// admission.budget so a slow registry denies with its own message.
	Timeout time.Duration `yaml:"timeout"`
	// CacheTTL is how long a resolved tag is reused (default 30s; a
	// negative TTL disables the cache); CacheSize bounds the tags kept
	// (default 1024).
	CacheTTL  time.Duration `yaml:"cacheTTL"`
	CacheSize int           `yaml:"cacheSize"`
	// DockerConfig is a Docker config.json whose "auths" hold registry
	// credentials (a kubernetes.io/dockerconfigjson Secret); empty means
	// anonymous.
	DockerConfig string `yaml:"dockerConfig"`
	// CAFile holds PEM certificates trusted for registries in addition to
	// the system's.
	CAFile string `yaml:"caFile"`
	// InsecureRegistries are reached over plain HTTP (host or host:port);
	// every other registry over HTTPS.
	InsecureRegistries []string `yaml:"insecureRegistries"`
}

// LimitsConfig bounds requests.
type LimitsConfig struct {
	// MaxUploadBytes bounds an uploaded bundle (default 32 MiB).
	MaxUploadBytes int64 `yaml:"maxUploadBytes"`
	// RequestTimeout bounds one request (default 30s).
	RequestTimeout time.Duration `yaml:"requestTimeout"`
}

// LoadConfig reads, validates and resolves a configuration file.
func LoadConfig(path string) (*Config, error) {
	f, err := limits.OpenFile(path)
	if err != nil {
		return nil, fmt.Errorf("server configuration: %w", err)
	}
	defer f.Close()
	b, err := limits.ReadAll(f, MaxConfigBytes, path)
	if err != nil {
		return nil, err
	}
	c, err := ParseConfig(b, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ParseConfig decodes a configuration, fills defaults, validates it and
// resolves relative paths against baseDir.
func ParseConfig(b []byte, baseDir string) (*Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.Store.Driver == "" {
		c.Store.Driver = "sqlite"
	}
	if c.Gate.PassphraseEnv == "" {
		c.Gate.PassphraseEnv = DefaultPassphraseEnv
	}
	if c.Admission.Budget == 0 {
		c.Admission.Budget = admission.DefaultBudget
	}
	if c.Admission.CacheTTL == 0 {
		c.Admission.CacheTTL = DefaultCacheTTL
	}
	if c.Admission.MaxEvaluations == 0 {
		c.Admission.MaxEvaluations = DefaultMaxEvaluations
	}
	if c.Admission.CacheSize == 0 {
		c.Admission.CacheSize = DefaultCacheSize
	}
	if r := &c.Admission.Resolve; r.Enabled {
		if r.Timeout == 0 {
			r.Timeout = oci.DefaultTimeout
		}
		if r.CacheTTL == 0 {
			r.CacheTTL = oci.DefaultCacheTTL
		}
		if r.CacheSize == 0 {
			r.CacheSize = oci.DefaultCacheSize
		}
	}
	if c.Limits.MaxUploadBytes == 0 {
		c.Limits.MaxUploadBytes = limits.MaxBundleBytes
	}
	if c.Limits.RequestTimeout == 0 {
		c.Limits.RequestTimeout = DefaultRequestTimeout
	}
	if m := &c.Transparency.Monitor; m.Read != "" && m.Interval == 0 {
		m.Interval = DefaultMonitorInterval
	}
	c.Transparency.Host.defaults()
	if err := c.validate(); err != nil {
		return nil, err
	}
	res := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(baseDir, *p)
		}
	}
	res(&c.TLS.Cert)
	res(&c.TLS.Key)
	res(&c.Store.Path)
	res(&c.Trust)
	res(&c.Gate.Key)
	res(&c.Admission.Resolve.DockerConfig)
	res(&c.Admission.Resolve.CAFile)
	res(&c.Auth.AdmissionClientCA)
	res(&c.Transparency.Monitor.State)
	res(&c.Transparency.Host.Dir)
	res(&c.VulnDB)
	if r := &c.Transparency.Monitor.Read; !strings.Contains(*r, "://") {
		res(r)
	}
	for env, spec := range c.Policies {
		if !strings.HasPrefix(spec, "builtin") {
			res(&spec)
			c.Policies[env] = spec
		}
	}
	return &c, nil
}

func (c *Config) validate() error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrConfig, field, fmt.Sprintf(format, args...))
	}
	if (c.TLS.Cert == "") != (c.TLS.Key == "") {
		return bad("tls", "give both cert and key")
	}
	switch c.Store.Driver {
	case "sqlite":
		if c.Store.Path == "" {
			return bad("store.path", "required for the sqlite driver")
		}
		if c.Store.DSN != "" || c.Store.DSNEnv != "" {
			return bad("store.dsn", "only for the postgres driver")
		}
	case "postgres":
		if (c.Store.DSN == "") == (c.Store.DSNEnv == "") {
			return bad("store.dsn", "give exactly one of dsn and dsnEnv for the postgres driver")
		}
		if c.Store.Path != "" {
			return bad("store.path", "only for the sqlite driver")
		}
	default:
		return bad("store.driver", "%q (want sqlite or postgres)", c.Store.Driver)
	}
	if c.Trust == "" {
		return bad("trust", "required: uploads are verified against it")
	}
	switch a := c.Auth; {
	case a.InsecureAnonymousAdmission && (a.AdmissionToken || a.AdmissionClientCA != ""):
		return bad("auth.insecureAnonymousAdmission", "contradicts admissionToken/admissionClientCA: drop one")
	case !a.InsecureAnonymousAdmission && !a.AdmissionToken && a.AdmissionClientCA == "":
		return bad("auth", "the admission endpoints need a credential, since every review is recorded: set admissionClientCA (mutual TLS with the API server) or admissionToken, or insecureAnonymousAdmission: true to accept reviews from anyone who reaches the port")
	case a.AdmissionClientCA != "" && c.TLS.Cert == "":
		return bad("auth.admissionClientCA", "client certificates need TLS: set tls.cert and tls.key")
	}
	if len(c.Policies) == 0 {
		return bad("policies", "name at least one environment's policy")
	}
	for env, spec := range c.Policies {
		if env == "" || spec == "" {
			return bad("policies", "environment %q has an empty name or policy", env)
		}
	}
	if c.Gate.VerifiedCacheMiB != nil && *c.Gate.VerifiedCacheMiB < 0 {
		return bad("gate.verifiedCacheMiB", "%d is negative (0 turns the cache off)", *c.Gate.VerifiedCacheMiB)
	}
	if c.Gate.Key == "" {
		return bad("gate.key", "required: the gate signs its decision records")
	}
	seen := map[string]bool{}
	for i, t := range c.Auth.Tokens {
		f := fmt.Sprintf("auth.tokens[%d] (%s)", i, t.Name)
		d, err := digest.New(digest.SHA256, t.SHA256)
		if err != nil {
			return bad(f, "sha256 must be 64 lower-case hex digits (the SHA-256 of the token, e.g. `printf %%s TOKEN | sha256sum`): %v", err)
		}
		if seen[d.Hex()] {
			return bad(f, "duplicate token hash")
		}
		seen[d.Hex()] = true
		if !slices.Contains([]Role{RoleReader, RoleUploader, RoleAdmin}, t.Role) {
			return bad(f, "role %q (want reader, uploader or admin)", t.Role)
		}
	}
	envs := c.Admission.environments()
	for ns, env := range c.Admission.Namespaces {
		if _, ok := c.Policies[env]; !ok {
			return bad("admission.namespaces", "namespace %q maps to %q, which has no policy", ns, env)
		}
	}
	for ns := range c.Admission.NamespaceLabels {
		if env, err := envs.Environment(ns); err == nil {
			if _, ok := c.Policies[env]; !ok {
				return bad("admission.namespaceLabels", "namespace %q maps to %q, which has no policy", ns, env)
			}
		}
	}
	if d := c.Admission.DefaultEnvironment; d != "" {
		if _, ok := c.Policies[d]; !ok {
			return bad("admission.defaultEnvironment", "%q has no policy", d)
		}
	}
	if c.Admission.Budget < 0 || c.Admission.Budget > 25*time.Second {
		return bad("admission.budget", "%v: want a positive duration of at most 25s, below the webhook timeoutSeconds (at most 30)", c.Admission.Budget)
	}
	if c.Admission.MaxEvaluations < 0 {
		return bad("admission.maxEvaluations", "%d is negative", c.Admission.MaxEvaluations)
	}
	if c.Admission.CacheSize < 0 {
		return bad("admission.cacheSize", "negative")
	}
	if re := c.Admission.RegistryEvidence; !re.Enabled && (re.MaxBundles != 0 || re.Timeout != 0) {
		return bad("admission.registryEvidence", "settings given but enabled is false; set enabled: true or remove them")
	} else if re.MaxBundles < 0 || re.Timeout < 0 || (re.Enabled && re.Timeout >= c.Admission.Budget) {
		return bad("admission.registryEvidence", "maxBundles %d, timeout %v: want non-negative values, the timeout below admission.budget (%v)", re.MaxBundles, re.Timeout, c.Admission.Budget)
	}
	if r := c.Admission.Resolve; !r.Enabled {
		// Registry access settings serve registryEvidence too.
		registryOnly := r.DockerConfig != "" || r.CAFile != "" || len(r.InsecureRegistries) > 0
		if r.Timeout != 0 || r.CacheTTL != 0 || r.CacheSize != 0 || (registryOnly && !c.Admission.RegistryEvidence.Enabled) {
			return bad("admission.resolve", "settings given but enabled is false; set enabled: true or remove them")
		}
	} else {
		if r.Timeout < 0 || r.Timeout >= c.Admission.Budget {
			return bad("admission.resolve.timeout", "%v: want a positive duration below admission.budget (%v), so that a slow registry denies with its own message", r.Timeout, c.Admission.Budget)
		}
		if r.CacheSize < 0 {
			return bad("admission.resolve.cacheSize", "negative")
		}
	}
	if c.Limits.MaxUploadBytes < 0 || c.Limits.MaxUploadBytes > limits.MaxBundleBytes {
		return bad("limits.maxUploadBytes", "%d: want 1..%d", c.Limits.MaxUploadBytes, limits.MaxBundleBytes)
	}
	if c.Limits.RequestTimeout < 0 {
		return bad("limits.requestTimeout", "negative")
	}
	if m := c.Transparency.Monitor; m.Read == "" && (m.Log != "" || m.State != "" || m.Interval != 0) {
		return bad("transparency.monitor", "settings given without read (the log's tiles URL or storage directory); set read or remove them")
	} else if m.Read != "" && m.Interval < MinMonitorInterval {
		return bad("transparency.monitor.interval", "%v: want at least %v", m.Interval, MinMonitorInterval)
	}
	return c.Transparency.Host.validate()
}

func (a AdmissionConfig) environments() admission.Environments {
	return admission.Environments{Namespaces: a.Namespaces, Label: a.EnvironmentLabel, NamespaceLabels: a.NamespaceLabels, Default: a.DefaultEnvironment}
}
