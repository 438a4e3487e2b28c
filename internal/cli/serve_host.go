package cli

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/hallmark-dev/hallmark/internal/server"
	"github.com/hallmark-dev/hallmark/tlog/host"
)

// serveHosted starts the transparency log and TSA the configuration's
// transparency.host asks for, writes their trusted root and returns the
// server options that mount them and a function that stops them. With
// nothing hosted it returns no options and a no-op.
func (a *App) serveHosted(ctx context.Context, cfg *server.Config, logger *slog.Logger) ([]server.Option, func(), error) {
	h := cfg.Transparency.Host
	if !h.Enabled() {
		return nil, func() {}, nil
	}
	pass := a.Getenv(h.PassphraseEnv)
	if pass == "" {
		return nil, nil, usageError(fmt.Errorf("transparency.host: set the passphrase of its keys in $%s", h.PassphraseEnv))
	}
	// The TSA reads the real clock, never the App's: a timestamp is worth
	// what the clock it read is.
	s, err := host.Open(ctx, host.Config{URL: h.URL, Dir: h.Dir, Passphrase: []byte(pass), Log: h.Log, TSA: h.TSA, Logger: logger})
	if err != nil {
		return nil, nil, environmentErr(err)
	}
	var opts []server.Option
	for prefix, handler := range s.Mounts() {
		opts = append(opts, server.WithMount(prefix, handler))
	}
	logger.Info("hosting transparency services (single-operator convenience)", "log", s.LogURL, "tsa", s.TSAURL, "trustedRoot", s.RootPath)
	stop := func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := s.Close(sctx); err != nil {
			logger.Error("stopping the hosted transparency log", "error", err)
		}
	}
	return opts, stop, nil
}
