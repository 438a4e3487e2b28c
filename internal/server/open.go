package server

import (
	"context"
	"fmt"
	"math"
	"runtime/debug"
	"time"

	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/store/postgres"
	"github.com/hallmark-dev/hallmark/store/sqlite"
)

// Open builds a server from a configuration: it decrypts the gate key with
// the passphrase from the environment variable the configuration names,
// opens the store (applying migrations) and assembles the gate with
// gate.Open (trust file, every environment's policy, the key, the TEE
// verifiers of WithTEE). getenv reads that variable.
func Open(ctx context.Context, cfg *Config, getenv func(string) string, opts ...Option) (*Server, error) {
	o := options{}
	for _, f := range opts {
		if err := f(&o); err != nil {
			return nil, err
		}
	}
	pass := getenv(cfg.Gate.PassphraseEnv)
	if pass == "" {
		return nil, fmt.Errorf("gate key %s: set its passphrase in $%s", cfg.Gate.Key, cfg.Gate.PassphraseEnv)
	}
	key, err := keys.LoadPrivateKeyFile(cfg.Gate.Key, []byte(pass))
	if err != nil {
		return nil, fmt.Errorf("gate key: %w", err)
	}
	st, err := OpenStore(ctx, cfg.Store, getenv, o.now)
	if err != nil {
		return nil, err
	}
	cacheMiB := DefaultVerifiedCacheMiB
	if cfg.Gate.VerifiedCacheMiB != nil {
		cacheMiB = *cfg.Gate.VerifiedCacheMiB
	}
	// A full cache is live heap: above half of the memory limit the
	// collector has little room and runs almost without pause.
	if lim := debug.SetMemoryLimit(-1); o.logger != nil && lim < math.MaxInt64 && int64(cacheMiB)<<20 > lim/2 {
		o.logger.Warn("gate.verifiedCacheMiB is over half the memory limit: once full, garbage collection runs almost continuously; lower it or raise --memory-limit-mib", "verifiedCacheMiB", cacheMiB, "memoryLimitMiB", lim>>20)
	}
	gopts := []gate.Option{gate.WithVerifiedCache(int64(cacheMiB) << 20)}
	if o.now != nil {
		gopts = append(gopts, gate.WithClock(o.now))
	}
	if o.logger != nil {
		gopts = append(gopts, gate.WithLogger(o.logger))
	}
	if cfg.Gate.VerifierID != "" {
		gopts = append(gopts, gate.WithVerifierID(cfg.Gate.VerifierID))
	}
	if len(o.verifyOpts) > 0 {
		gopts = append(gopts, gate.WithVerifyOptions(o.verifyOpts...))
	}
	ropts, err := GateOptions(cfg, o.now)
	if err != nil {
		st.Close()
		return nil, err
	}
	gopts = append(gopts, ropts...)
	g, err := gate.Open(ctx, st, gate.Setup{TrustFile: cfg.Trust, Policies: cfg.Policies, Key: key, KeyName: "gate key " + cfg.Gate.Key, TEE: o.tee}, gopts...)
	if err != nil {
		st.Close()
		return nil, err
	}
	tr := g.Trust()
	if o.dashboardFrom != nil {
		h, err := o.dashboardFrom(st, g)
		if err != nil {
			st.Close()
			return nil, fmt.Errorf("dashboard: %w", err)
		}
		opts = append(opts, WithDashboard(h))
	}
	s, err := New(cfg, st, tr, g, opts...)
	if err != nil {
		st.Close()
		return nil, err
	}
	s.closers = append(s.closers, st.Close)
	return s, nil
}

// OpenStore opens the configured store. now may be nil.
func OpenStore(ctx context.Context, c StoreConfig, getenv func(string) string, now func() time.Time) (store.Store, error) {
	switch c.Driver {
	case "sqlite":
		var opts []sqlite.Option
		if now != nil {
			opts = append(opts, sqlite.WithClock(now))
		}
		return sqlite.Open(ctx, c.Path, opts...)
	case "postgres":
		dsn := c.DSN
		if c.DSNEnv != "" {
			dsn = getenv(c.DSNEnv)
			if dsn == "" {
				return nil, fmt.Errorf("%w: store.dsnEnv: $%s is empty", ErrConfig, c.DSNEnv)
			}
		}
		var opts []postgres.Option
		if now != nil {
			opts = append(opts, postgres.WithClock(now))
		}
		return postgres.Open(ctx, dsn, opts...)
	}
	return nil, fmt.Errorf("%w: store.driver %q", ErrConfig, c.Driver)
}
