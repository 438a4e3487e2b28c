package web

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/trust"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// ErrBadOption is returned by New when an option is invalid.
var ErrBadOption = errors.New("web: bad option")

// ContentSecurityPolicy is the Content-Security-Policy of every response:
// no scripts at all, styles and images only from the dashboard itself, no
// framing, forms only to the dashboard.
const ContentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Defaults of the options.
const (
	DefaultBasePath   = "/ui"
	DefaultPageSize   = 50
	DefaultMaxRecords = 5000
)

// Option configures New.
type Option func(*config) error

type config struct {
	now        func() time.Time
	log        *slog.Logger
	basePath   string
	pageSize   int
	maxRecords int
	compliance *Compliance
	verify     []attest.VerifyOption
}

// WithClock sets the clock used to render "x ago" (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return fmt.Errorf("%w: WithClock(nil)", ErrBadOption)
		}
		c.now = now
		return nil
	}
}

// WithLogger sets the logger for store errors (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return fmt.Errorf("%w: WithLogger(nil)", ErrBadOption)
		}
		c.log = l
		return nil
	}
}

// WithBasePath sets the path prefix the handler serves under (default
// "/ui"); links in the pages start with it. It must start with "/" and not
// end with one; "" serves at the root.
func WithBasePath(p string) Option {
	return func(c *config) error {
		if p != "" && (!strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.ContainsAny(p, "?#\"'<> ")) {
			return fmt.Errorf("%w: base path %q must start with / and not end with one (e.g. /ui)", ErrBadOption, p)
		}
		c.basePath = p
		return nil
	}
}

// WithPageSize sets how many rows a table shows per page (default 50,
// 1 to 1000).
func WithPageSize(n int) Option {
	return func(c *config) error {
		if n < 1 || n > 1000 {
			return fmt.Errorf("%w: page size %d (want 1 to 1000)", ErrBadOption, n)
		}
		c.pageSize = n
		return nil
	}
}

// WithMaxRecords caps how many evidence records one page view reads from
// the store (default 5000, at least 10). Pages built from more records than
// that say so and show the most recently stored ones.
func WithMaxRecords(n int) Option {
	return func(c *config) error {
		if n < 10 {
			return fmt.Errorf("%w: max records %d (want at least 10)", ErrBadOption, n)
		}
		c.maxRecords = n
		return nil
	}
}

// WithVerifyOptions verifies every stored record shown, and the evidence
// the compliance page judges, with these options besides the trust file,
// as the server's gate does: with attest.WithTrustedRoot, a record whose
// log entries or timestamps do not verify is shown as not verified and not
// counted.
func WithVerifyOptions(opts ...attest.VerifyOption) Option {
	return func(c *config) error {
		c.verify = append(c.verify, opts...)
		return nil
	}
}

// dashboard serves the pages.
type dashboard struct {
	cfg   config
	st    store.Store
	trust *trust.Trust
	pages map[string]*template.Template

	checkedMu sync.Mutex // guards checked
	// checked holds, by bundle SHA-256, why a gate record does not count
	// ("" when it does); see checkRecord.
	checked *simplelru.LRU[string, string]
}

// checkedRecords bounds the verification outcomes the dashboard keeps
// (about 150 bytes each).
const checkedRecords = 50_000

// New returns the dashboard handler over st. It serves only GET and HEAD;
// every response carries the security headers (see ContentSecurityPolicy).
// Gate decisions and VSAs are verified against tr when shown: only those a
// key with the gate role signed count as the gate's; others are shown with
// the reason they do not count.
func New(st store.Store, tr *trust.Trust, opts ...Option) (http.Handler, error) {
	if st == nil {
		return nil, fmt.Errorf("%w: nil store", ErrBadOption)
	}
	if tr == nil {
		return nil, fmt.Errorf("%w: nil trust file (gate decisions are verified against it)", ErrBadOption)
	}
	cfg := config{
		now:        time.Now,
		log:        slog.New(slog.DiscardHandler),
		basePath:   DefaultBasePath,
		pageSize:   DefaultPageSize,
		maxRecords: DefaultMaxRecords,
	}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	checked, err := simplelru.NewLRU[string, string](checkedRecords, nil)
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	d := &dashboard{cfg: cfg, st: st, trust: tr, checked: checked}
	pages, err := parseTemplates(d.funcs())
	if err != nil {
		return nil, err
	}
	d.pages = pages
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, fmt.Errorf("web: static files: %w", err)
	}

	mux := http.NewServeMux()
	b := cfg.basePath
	mux.HandleFunc("GET "+b+"/{$}", d.artifacts)
	mux.HandleFunc("GET "+b+"/artifacts/{digest}", d.artifact)
	mux.HandleFunc("GET "+b+"/artifacts/{digest}/compliance", d.complianceReport)
	mux.HandleFunc("GET "+b+"/evidence/{id}", d.evidence)
	mux.HandleFunc("GET "+b+"/deployments", d.deployments)
	mux.HandleFunc("GET "+b+"/findings", d.findings)
	mux.Handle("GET "+b+"/static/{file}", http.StripPrefix(b+"/static/", http.FileServerFS(static)))
	if b != "" {
		mux.Handle("GET "+b, http.RedirectHandler(b+"/", http.StatusMovedPermanently))
	}
	mux.HandleFunc("/", d.notFound)

	cop := http.NewCrossOriginProtection()
	return securityHeaders(cop.Handler(onlyRead(mux))), nil
}

// securityHeaders sets the headers every response carries.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// onlyRead refuses every method but GET and HEAD: the dashboard changes
// nothing.
func onlyRead(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "the dashboard is read-only: only GET and HEAD are allowed", http.StatusMethodNotAllowed)
			return
		}
		next.ServeHTTP(w, r)
	})
}
