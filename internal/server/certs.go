package server

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/hallmark-dev/hallmark/internal/limits"
)

// certReloadInterval is how often a TLS handshake may look at the
// certificate files for a renewal.
const certReloadInterval = 10 * time.Second

// certReloader serves the configured certificate and picks up a renewed
// one (cert-manager rewrites the Secret's files in place) without a
// restart: a certificate that expired in memory would fail every webhook
// call, and with failurePolicy Fail deny every deployment. A renewal that
// cannot be loaded keeps the previous certificate and is logged.
type certReloader struct {
	certFile, keyFile string
	logger            *slog.Logger
	now               func() time.Time

	mu        sync.Mutex
	cert      *tls.Certificate
	certMod   time.Time
	keyMod    time.Time
	lastCheck time.Time
}

func newCertReloader(certFile, keyFile string, logger *slog.Logger, now func() time.Time) (*certReloader, error) {
	c := &certReloader{certFile: certFile, keyFile: keyFile, logger: logger, now: now}
	if err := c.load(); err != nil {
		return nil, err
	}
	c.lastCheck = now()
	return c, nil
}

// load reads the pair; the caller holds mu or owns c.
func (c *certReloader) load() error {
	cm, km, err := c.modTimes()
	if err != nil {
		return err
	}
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("TLS certificate %s / key %s: %w", c.certFile, c.keyFile, err)
	}
	c.cert, c.certMod, c.keyMod = &cert, cm, km
	return nil
}

func (c *certReloader) modTimes() (cert, key time.Time, err error) {
	ci, err := os.Stat(c.certFile)
	if err != nil {
		return cert, key, fmt.Errorf("TLS certificate: %w", err)
	}
	ki, err := os.Stat(c.keyFile)
	if err != nil {
		return cert, key, fmt.Errorf("TLS key: %w", err)
	}
	return ci.ModTime(), ki.ModTime(), nil
}

// GetCertificate is tls.Config.GetCertificate.
func (c *certReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := c.now(); now.Sub(c.lastCheck) >= certReloadInterval {
		c.lastCheck = now
		cm, km, err := c.modTimes()
		if err == nil && (!cm.Equal(c.certMod) || !km.Equal(c.keyMod)) {
			err = c.load()
			if err == nil {
				c.logger.Info("TLS certificate reloaded", "cert", c.certFile)
			}
		}
		if err != nil {
			c.logger.Warn("TLS certificate not reloaded; serving the previous one", "error", err)
		}
	}
	return c.cert, nil
}

// clientCAs reads a PEM bundle of CA certificates.
func clientCAs(path string) (*x509.CertPool, error) {
	b, err := limits.ReadFile(path, MaxConfigBytes)
	if err != nil {
		return nil, fmt.Errorf("auth.admissionClientCA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("auth.admissionClientCA %s: no PEM certificate in it", path)
	}
	return pool, nil
}
