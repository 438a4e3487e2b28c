package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hallmark-dev/hallmark/tlog"
)

// Where Services mounts the log and the TSA under its base URL.
const (
	LogPath = "/tlog"
	TSAPath = "/tsa"
)

// Config says which services to host, where clients reach them and where
// their keys and data live.
type Config struct {
	// URL is the base URL clients reach the hosting server at; the log is
	// served at URL+LogPath (its host name is the checkpoint origin) and
	// the TSA at URL+TSAPath+TimestampPath.
	URL string
	// Dir keeps the keys (encrypted with Passphrase, 0600), the log's
	// tiles, the TSA's chain and the trusted root (see the file names
	// above). It is created on the first start.
	Dir string
	// Passphrase encrypts the private keys in Dir.
	Passphrase []byte
	// Log and TSA choose what to host; at least one.
	Log, TSA bool
	// Now is the TSA's clock (default time.Now).
	Now func() time.Time
	// Logger receives errors the services cannot return to a client.
	Logger *slog.Logger
}

// Services are a hosted log and TSA and the trusted root that trusts them.
type Services struct {
	// Log and TSA are nil when not hosted.
	Log *Log
	TSA *TSA
	// LogURL and TSAURL are where clients reach them.
	LogURL, TSAURL string
	// Root is the Sigstore trusted_root.json for them, also written to
	// Dir/TrustedRootFile at each start.
	Root []byte
	// RootPath is that file.
	RootPath string
}

// Open starts the services c asks for, generating keys on the first start,
// and writes the trusted root. The log runs until Close.
func Open(ctx context.Context, c Config) (*Services, error) {
	if !c.Log && !c.TSA {
		return nil, errors.New("host: neither a log nor a TSA to host")
	}
	if len(c.Passphrase) == 0 {
		return nil, errors.New("host: an empty passphrase would store the keys unencrypted")
	}
	base, err := url.Parse(c.URL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("host: URL %q: want the http(s) URL clients reach this server at", c.URL)
	}
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("host: %w", err)
	}
	prefix := strings.TrimSuffix(c.URL, "/")
	s := &Services{RootPath: filepath.Join(c.Dir, TrustedRootFile)}
	var logs []tlog.Log
	var tsas []tlog.TSA
	if c.TSA {
		key, chainPEM, err := OpenTSAKey(c.Dir, c.Passphrase)
		if err != nil {
			return nil, fmt.Errorf("host: %w", err)
		}
		chain, err := ParseChain(chainPEM)
		if err != nil {
			return nil, fmt.Errorf("host: %s: %w", filepath.Join(c.Dir, TSAChainFile), err)
		}
		if s.TSA, err = NewTSA(key.Signer(), chain, c.Now, c.Logger); err != nil {
			return nil, fmt.Errorf("host: %w", err)
		}
		s.TSAURL = prefix + TSAPath + TimestampPath
		tsas = append(tsas, tlog.TSA{URL: s.TSAURL, Chain: chain})
	}
	if c.Log {
		key, from, err := OpenLogKey(c.Dir, c.Passphrase)
		if err != nil {
			return nil, fmt.Errorf("host: %w", err)
		}
		sv, err := key.SignerVerifier()
		if err != nil {
			return nil, fmt.Errorf("host: log key: %w", err)
		}
		s.LogURL = prefix + LogPath
		if s.Log, err = NewLog(ctx, s.LogURL, filepath.Join(c.Dir, LogStorageName), sv, c.Logger); err != nil {
			return nil, fmt.Errorf("host: %w", err)
		}
		logs = append(logs, tlog.Log{BaseURL: s.LogURL, PublicKey: key.Public().Key(), ValidFrom: from})
	}
	if s.Root, err = tlog.NewRoot(logs, tsas); err != nil {
		s.Close(ctx)
		return nil, fmt.Errorf("host: %w", err)
	}
	if err := os.WriteFile(s.RootPath, append(s.Root, '\n'), 0o644); err != nil {
		s.Close(ctx)
		return nil, fmt.Errorf("host: %w", err)
	}
	return s, nil
}

// Mounts returns the handlers to serve by path prefix (LogPath, TSAPath),
// each relative to its prefix.
func (s *Services) Mounts() map[string]http.Handler {
	m := map[string]http.Handler{}
	if s.Log != nil {
		m[LogPath] = s.Log.Handler()
	}
	if s.TSA != nil {
		m[TSAPath] = s.TSA.Handler()
	}
	return m
}

// Close stops the log.
func (s *Services) Close(ctx context.Context) error {
	if s.Log == nil {
		return nil
	}
	return s.Log.Close(ctx)
}
