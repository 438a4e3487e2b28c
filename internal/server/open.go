package server

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/internal/limits"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/store/postgres"
	"github.com/hallmark-dev/hallmark/store/sqlite"
	"github.com/hallmark-dev/hallmark/trust"
)

// Open builds a server from a configuration: it opens the store (applying
// migrations), loads the trust file, compiles every environment's policy
// and decrypts the gate key with the passphrase from the environment
// variable the configuration names. getenv reads that variable.
func Open(ctx context.Context, cfg *Config, getenv func(string) string, opts ...Option) (*Server, error) {
	o := options{}
	for _, f := range opts {
		if err := f(&o); err != nil {
			return nil, err
		}
	}
	tr, err := trust.Load(cfg.Trust)
	if err != nil {
		return nil, err
	}
	pols, err := Policies(ctx, cfg.Policies, o.presetHook)
	if err != nil {
		return nil, err
	}
	pass := getenv(cfg.Gate.PassphraseEnv)
	if pass == "" {
		return nil, fmt.Errorf("gate key %s: set its passphrase in $%s", cfg.Gate.Key, cfg.Gate.PassphraseEnv)
	}
	key, err := keys.LoadPrivateKeyFile(cfg.Gate.Key, []byte(pass))
	if err != nil {
		return nil, fmt.Errorf("gate key: %w", err)
	}
	// Decisions are read back only when a gate-role key signed them: a gate
	// key without the role would record decisions nobody can list.
	if id := key.Public().ID(); !tr.Has(id, trust.RoleGate) {
		return nil, fmt.Errorf("gate key %s (key ID %s) does not have the %q role in the trust file %s: add it (roles: [gate]), or its decisions would be neither listed nor rechecked",
			cfg.Gate.Key, id, trust.RoleGate, cfg.Trust)
	}
	st, err := OpenStore(ctx, cfg.Store, getenv, o.now)
	if err != nil {
		return nil, err
	}
	cacheMiB := DefaultVerifiedCacheMiB
	if cfg.Gate.VerifiedCacheMiB != nil {
		cacheMiB = *cfg.Gate.VerifiedCacheMiB
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
	gopts = append(gopts, o.gateOpts...)
	g, err := gate.New(st, tr, pols, key, gopts...)
	if err != nil {
		st.Close()
		return nil, err
	}
	if o.dashboardFrom != nil {
		h, err := o.dashboardFrom(st, tr, pols)
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

// Policies compiles each environment's policy. A spec is "builtin" (the
// built-in preset named like the environment), "builtin:NAME", a preset
// YAML file, or a .rego file or directory (decision at
// data.hallmark.policy.decision). hook, when not nil, may adjust a preset
// before it is compiled for an environment.
func Policies(ctx context.Context, specs map[string]string, hook func(p *policy.Preset, env string)) (map[string]*policy.Policy, error) {
	out := map[string]*policy.Policy{}
	for env, spec := range specs {
		p, err := compile(ctx, env, spec, hook)
		if err != nil {
			return nil, fmt.Errorf("policy for %s (%s): %w", env, spec, err)
		}
		out[env] = p
	}
	return out, nil
}

func compile(ctx context.Context, env, spec string, hook func(p *policy.Preset, env string)) (*policy.Policy, error) {
	switch {
	case spec == "builtin" || strings.HasPrefix(spec, "builtin:"):
		name := env
		if n, ok := strings.CutPrefix(spec, "builtin:"); ok && n != "" {
			name = n
		}
		presets, err := policy.BuiltinPresets()
		if err != nil {
			return nil, err
		}
		if hook != nil {
			hook(presets, name)
		}
		return policy.CompilePreset(ctx, presets, name)
	case strings.HasSuffix(spec, ".yaml") || strings.HasSuffix(spec, ".yml"):
		b, err := limits.ReadFile(spec, policy.MaxPresetSize)
		if err != nil {
			return nil, err
		}
		presets, err := policy.ParsePreset(b)
		if err != nil {
			return nil, err
		}
		if hook != nil {
			hook(presets, env)
		}
		return policy.CompilePreset(ctx, presets, env, policy.WithURI("file://"+spec))
	}
	st, err := os.Stat(spec)
	if err != nil {
		return nil, err
	}
	files := []string{spec}
	if st.IsDir() {
		files = nil
		entries, err := os.ReadDir(spec)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".rego") && !strings.HasSuffix(e.Name(), "_test.rego") {
				files = append(files, filepath.Join(spec, e.Name()))
			}
		}
	}
	if len(files) == 0 {
		return nil, errors.New("no .rego files")
	}
	var mods []policy.Module
	for _, f := range files {
		b, err := limits.ReadFile(f, 4<<20)
		if err != nil {
			return nil, err
		}
		mods = append(mods, policy.Module{Name: f, Source: b})
	}
	return policy.Compile(ctx, mods, policy.WithURI("file://"+spec))
}
