package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/hallmark-dev/hallmark/admission"
	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/internal/limits"
	"github.com/hallmark-dev/hallmark/oci"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/tee"
	"github.com/hallmark-dev/hallmark/trust"
)

// ErrInsecure is returned when plain HTTP is asked for where it is not
// allowed.
var ErrInsecure = errors.New("refusing to serve plain HTTP")

// Server is the evidence service. Build it with New (or Open), serve it
// with Run or Serve.
type Server struct {
	cfg       *Config
	store     store.Store
	trust     *trust.Trust
	gate      *gate.Gate
	webhook   *admission.Webhook
	tokens    tokens
	metrics   *metrics
	logger    *slog.Logger
	now       func() time.Time
	dashboard http.Handler
	closers   []func() error
	// verifyOpts verify uploads as the gate verifies evidence.
	verifyOpts []attest.VerifyOption
	// monitor, when configured, runs while Serve does (monitor.go).
	monitor *logMonitor
	// mounts are unauthenticated handlers by path prefix (host.go).
	mounts map[string]http.Handler
}

// Option configures New.
type Option func(*options) error

type options struct {
	logger        *slog.Logger
	now           func() time.Time
	dashboard     http.Handler
	dashboardFrom func(store.Store, *gate.Gate) (http.Handler, error)
	tee           *tee.Registry
	trustedRoot   *root.TrustedRoot
	verifyOpts    []attest.VerifyOption
	mounts        map[string]http.Handler
}

// WithTEE gives the gate Open builds the verifiers it re-verifies TEE
// attestations with (gate.Setup.TEE); without it, TEE evidence is ignored.
func WithTEE(reg *tee.Registry) Option {
	return func(o *options) error { o.tee = reg; return nil }
}

// WithLogger sets the structured logger.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error { o.logger = l; return nil }
}

// WithClock sets the clock.
func WithClock(now func() time.Time) Option {
	return func(o *options) error { o.now = now; return nil }
}

// WithDashboard mounts a read-only web UI under "/ui/". It is served behind
// the same read authentication as the API.
func WithDashboard(h http.Handler) Option {
	return func(o *options) error { o.dashboard = h; return nil }
}

// WithDashboardFrom builds the dashboard over the store Open opens and the
// gate it assembled (its trust file, the one uploads use too; its policies
// and TEE verification, for the compliance page).
func WithDashboardFrom(build func(store.Store, *gate.Gate) (http.Handler, error)) Option {
	return func(o *options) error { o.dashboardFrom = build; return nil }
}

// New builds a server over an open store, a trust file and a gate built on
// that store.
func New(cfg *Config, st store.Store, tr *trust.Trust, g *gate.Gate, opts ...Option) (*Server, error) {
	o := options{logger: slog.New(slog.DiscardHandler), now: time.Now}
	for _, f := range opts {
		if err := f(&o); err != nil {
			return nil, err
		}
	}
	switch {
	case cfg == nil:
		return nil, errors.New("server.New: nil configuration")
	case st == nil || tr == nil || g == nil:
		return nil, errors.New("server.New: a store, a trust file and a gate are required")
	}
	s := &Server{cfg: cfg, store: st, trust: tr, gate: g, tokens: newTokens(cfg.Auth.Tokens), metrics: newMetrics(),
		logger: o.logger, now: o.now, dashboard: o.dashboard, verifyOpts: o.verifyOpts, mounts: o.mounts}
	if cfg.Transparency.Monitor.Read != "" {
		m, err := newLogMonitor(cfg.Transparency.Monitor, o.trustedRoot, st, s.metrics, o.logger, o.now)
		if err != nil {
			return nil, err
		}
		s.monitor = m
	}
	var cache *admission.Cache
	if cfg.Admission.CacheTTL > 0 && cfg.Admission.CacheSize > 0 {
		cache = admission.NewCache(cfg.Admission.CacheTTL, cfg.Admission.CacheSize, o.now)
	}
	aopts := []admission.Option{admission.WithBudget(cfg.Admission.Budget), admission.WithCache(cache), admission.WithMaxEvaluations(cfg.Admission.MaxEvaluations),
		admission.WithLogger(o.logger), admission.WithObserver(s.observeAdmission)}
	if cfg.Admission.Resolve.Enabled {
		r, err := newResolver(cfg.Admission.Resolve, o.now)
		if err != nil {
			return nil, err
		}
		aopts = append(aopts, admission.WithResolver(r))
	}
	// The gate reads the registry when the server does (GateOptions).
	if re := cfg.Admission.RegistryEvidence.Enabled; (re || cfg.Admission.Resolve.Enabled) && !g.ResolvesIndexes() || re && !g.HasEvidenceSource() {
		return nil, errors.New("server.New: admission.resolve or registryEvidence is on but the gate was not built with server.GateOptions: it would not read image indexes or attached evidence from the registry")
	}
	dec := gateDecider{g: g, m: s.metrics}
	wh, err := admission.New(dec, cfg.Admission.environments(), aopts...)
	if err != nil {
		return nil, err
	}
	s.webhook = wh
	return s, nil
}

// GateOptions are the options of the server's gate that read the registry:
// with admission.resolve or registryEvidence on, an index resolver
// (gate.RegistryIndexes: per-platform scans count for an image index
// when they cover every platform it lists) and, with registryEvidence, the
// bundles attached to each image and to each platform manifest of an index.
// Both read through one client with the registry settings of
// admission.resolve. Open passes them to gate.Open; New refuses a gate
// built without them.
func GateOptions(cfg *Config, now func() time.Time) ([]gate.Option, error) {
	re := cfg.Admission.RegistryEvidence
	if !cfg.Admission.Resolve.Enabled && !re.Enabled {
		return nil, nil
	}
	rc := cfg.Admission.Resolve
	rc.Timeout, rc.CacheTTL = max(rc.Timeout, oci.DefaultTimeout), -1
	r, err := newResolver(rc, now)
	if err != nil {
		return nil, err
	}
	opts := []gate.Option{gate.WithIndexResolver(gate.RegistryIndexes(r))}
	if re.Enabled {
		timeout := re.Timeout
		if timeout <= 0 {
			timeout = 2 * time.Second
		}
		src, err := oci.NewRegistryEvidence(r, re.MaxBundles, timeout)
		if err != nil {
			return nil, err
		}
		opts = append(opts, gate.WithEvidenceSource(src))
	}
	return opts, nil
}

// newResolver builds the registry client that resolves tag-only images.
func newResolver(c ResolveConfig, now func() time.Time) (*oci.Resolver, error) {
	ttl := max(c.CacheTTL, 0)
	opts := []oci.Option{oci.WithTimeout(c.Timeout), oci.WithCache(ttl, c.CacheSize)}
	if now != nil {
		opts = append(opts, oci.WithClock(now))
	}
	if c.DockerConfig != "" {
		opts = append(opts, oci.WithDockerConfig(c.DockerConfig))
	}
	if len(c.InsecureRegistries) > 0 {
		opts = append(opts, oci.WithPlainHTTPInsecure(c.InsecureRegistries...))
	}
	if c.CAFile != "" {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		f, err := limits.OpenFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("admission.resolve.caFile: %w", err)
		}
		defer f.Close()
		pem, err := limits.ReadAll(f, MaxConfigBytes, c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("admission.resolve.caFile: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("admission.resolve.caFile %s: no PEM certificate in it", c.CAFile)
		}
		opts = append(opts, oci.WithRootCAs(pool))
	}
	r, err := oci.NewResolver(opts...)
	if err != nil {
		return nil, fmt.Errorf("admission.resolve: %w", err)
	}
	return r, nil
}

func (s *Server) observeAdmission(o admission.Outcome, d time.Duration) {
	if o.Mutating {
		s.metrics.inc("hallmark_admission_mutations_total", "result", o.Reason)
		s.metrics.add("hallmark_admission_pinned_images_total", float64(o.Pinned))
		return
	}
	cached := "false"
	if o.Cached {
		cached = "true"
	}
	s.metrics.inc("hallmark_admission_reviews_total", "result", o.Reason, "cached", cached)
	s.metrics.observe("hallmark_admission_review_duration_seconds", d, "cached", cached)
}

// Close releases what Open opened.
func (s *Server) Close() error {
	var errs []error
	for _, c := range s.closers {
		errs = append(errs, c())
	}
	return errors.Join(errs...)
}

// Run listens on the configured address (or addr, when not empty) and
// serves until ctx ends, then shuts down gracefully. It serves TLS with
// the configured certificate; plain HTTP only with insecureHTTP on a
// loopback address.
func (s *Server) Run(ctx context.Context, addr string, insecureHTTP bool) error {
	if addr == "" {
		addr = s.cfg.Listen
	}
	tlsCfg, err := s.tlsConfig(addr, insecureHTTP)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	return s.Serve(ctx, ln, tlsCfg)
}

func (s *Server) tlsConfig(addr string, insecureHTTP bool) (*tls.Config, error) {
	hasTLS := s.cfg.TLS.Cert != ""
	switch {
	case hasTLS && insecureHTTP:
		return nil, fmt.Errorf("%w: --insecure-http given but tls.cert is configured; drop one of them", ErrInsecure)
	case !hasTLS && !insecureHTTP:
		return nil, fmt.Errorf("%w: no tls.cert and tls.key in the configuration (or, for local testing on a loopback address only, pass --insecure-http)", ErrInsecure)
	case insecureHTTP:
		if !loopback(addr) {
			return nil, fmt.Errorf("%w on %s: --insecure-http is only allowed on a loopback address (127.0.0.1, ::1, localhost)", ErrInsecure, addr)
		}
		return nil, nil
	}
	certs, err := newCertReloader(s.cfg.TLS.Cert, s.cfg.TLS.Key, s.logger, time.Now)
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: certs.GetCertificate}
	if s.cfg.Auth.AdmissionClientCA != "" {
		pool, err := clientCAs(s.cfg.Auth.AdmissionClientCA)
		if err != nil {
			return nil, err
		}
		// Certificates are asked for, not required: the API and the
		// dashboard authenticate with tokens; authorizeAdmission requires
		// a verified chain on the admission endpoints.
		cfg.ClientAuth, cfg.ClientCAs = tls.VerifyClientCertIfGiven, pool
	}
	return cfg, nil
}

// loopback reports whether a listen address is bound to loopback only.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Serve serves on ln (with TLS when tlsCfg is not nil) until ctx ends, then
// stops accepting, lets in-flight requests finish (up to 15 s) and returns.
func (s *Server) Serve(ctx context.Context, ln net.Listener, tlsCfg *tls.Config) error {
	hs := s.HTTPServer()
	if tlsCfg != nil {
		ln = tls.NewListener(ln, tlsCfg)
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	if s.monitor != nil {
		// The monitor stops with the server: its context ends on shutdown
		// and Serve returns only once it has.
		mctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); s.monitor.run(mctx) }()
		defer func() { stop(); <-done }()
	}
	s.logger.Info("serving", "address", ln.Addr().String(), "tls", tlsCfg != nil, "store", s.cfg.Store.Driver, "environments", s.gate.Environments())
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// HTTPServer returns an http.Server with the service's handler and
// timeouts, for callers that manage the listener themselves.
func (s *Server) HTTPServer() *http.Server {
	t := s.cfg.Limits.RequestTimeout
	return &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       t + 10*time.Second,
		WriteTimeout:      t + 15*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}
}

// Store returns the server's store.
func (s *Server) Store() store.Store { return s.store }

// Gate returns the server's gate.
func (s *Server) Gate() *gate.Gate { return s.gate }

// Trust returns the trust file the server verifies uploads and decisions
// against.
func (s *Server) Trust() *trust.Trust { return s.trust }
