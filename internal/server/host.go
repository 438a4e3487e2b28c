package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// HostConfig asks the server to host its own transparency log and RFC 3161
// timestamp authority (package tlog/host): a convenience for a single
// operator, off by default. Production points signers at a real Rekor v2
// and TSA instead (docs/tlog.md).
type HostConfig struct {
	// URL is this server's URL as signers reach it. The log is served at
	// URL/tlog (its host name is the checkpoint origin), the TSA at
	// URL/tsa/api/v1/timestamp.
	URL string `yaml:"url"`
	// Dir keeps the keys, the log's tiles, the TSA's certificate chain and
	// the trusted_root.json written at each start (default
	// "transparency", relative to the configuration file).
	Dir string `yaml:"dir"`
	// PassphraseEnv names the environment variable with the passphrase
	// that encrypts the keys in Dir.
	PassphraseEnv string `yaml:"passphraseEnv"`
	// Log and TSA choose what to host.
	Log bool `yaml:"log"`
	TSA bool `yaml:"tsa"`
}

// DefaultHostDir is where hosted services keep their files, relative to the
// configuration file.
const DefaultHostDir = "transparency"

// Enabled reports whether anything is hosted.
func (h HostConfig) Enabled() bool { return h.Log || h.TSA }

func (h *HostConfig) defaults() {
	if h.Enabled() && h.Dir == "" {
		h.Dir = DefaultHostDir
	}
}

func (h HostConfig) validate() error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("%w: transparency.host.%s: %s", ErrConfig, field, fmt.Sprintf(format, args...))
	}
	if !h.Enabled() {
		if h.URL != "" || h.Dir != "" || h.PassphraseEnv != "" {
			return bad("log", "settings given but neither log nor tsa is true; set one or remove them")
		}
		return nil
	}
	u, err := url.Parse(h.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.RawQuery != "" || u.Fragment != "" {
		return bad("url", "%q: want this server's http(s) URL as signers reach it, e.g. https://hallmark.example:8443", h.URL)
	}
	if strings.ContainsAny(u.Hostname(), " +") {
		return bad("url", "%q: the host name is the log's checkpoint origin and may not contain spaces or '+'", h.URL)
	}
	if h.PassphraseEnv == "" {
		return bad("passphraseEnv", "required: the variable holding the passphrase that encrypts the hosted services' keys")
	}
	return nil
}

// WithMount serves h under the path prefix (e.g. "/tlog"), with the prefix
// stripped, without authentication: hosted transparency services, which
// Sigstore clients reach without credentials as they reach a public log.
func WithMount(prefix string, h http.Handler) Option {
	return func(o *options) error {
		if !strings.HasPrefix(prefix, "/") || strings.HasSuffix(prefix, "/") || h == nil {
			return fmt.Errorf("server.WithMount(%q): want a prefix like /name and a handler", prefix)
		}
		if o.mounts == nil {
			o.mounts = map[string]http.Handler{}
		}
		o.mounts[prefix] = h
		return nil
	}
}

// mount adds the WithMount handlers to mux.
func (s *Server) mount(mux *http.ServeMux) {
	for prefix, h := range s.mounts {
		mux.Handle(prefix+"/", s.instrument(prefix+"/", http.StripPrefix(prefix, h)))
	}
}
