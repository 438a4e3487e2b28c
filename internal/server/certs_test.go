package server

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestCertificateReload: a renewed certificate is served after the check
// interval without a restart, and a broken renewal keeps the previous one.
func TestCertificateReload(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	write := func(cert, key []byte, mod time.Time) {
		t.Helper()
		for f, b := range map[string][]byte{certFile: cert, keyFile: key} {
			if err := os.WriteFile(f, b, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(f, mod, mod); err != nil {
				t.Fatal(err)
			}
		}
	}
	c1, k1 := selfSigned(t)
	c2, k2 := selfSigned(t)
	start := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	now := start
	write(c1, k1, start)
	r, err := newCertReloader(certFile, keyFile, slog.New(slog.DiscardHandler), func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	served := func() []byte {
		t.Helper()
		c, err := r.GetCertificate(nil)
		if err != nil {
			t.Fatal(err)
		}
		return c.Certificate[0]
	}
	first := served()
	write(c2, k2, start.Add(time.Minute))
	if !bytes.Equal(served(), first) {
		t.Fatal("reloaded before the check interval")
	}
	now = now.Add(certReloadInterval)
	second := served()
	if bytes.Equal(second, first) {
		t.Fatal("renewed certificate not served after the check interval")
	}
	write([]byte("not a certificate"), k2, start.Add(2*time.Minute))
	now = now.Add(certReloadInterval)
	if !bytes.Equal(served(), second) {
		t.Fatal("a broken renewal replaced the certificate being served")
	}
}
