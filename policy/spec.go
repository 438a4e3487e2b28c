package policy

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hallmark-dev/hallmark/internal/limits"
)

// MaxRegoFileSize bounds each .rego file a spec names.
const MaxRegoFileSize = 4 << 20

// ErrSpec means the policy a spec names could not be loaded or compiled.
var ErrSpec = errors.New("policy spec cannot be loaded")

// ErrProject means the project's parameters (WithProject) do not fit the
// built-in presets.
var ErrProject = errors.New("project parameters do not fit the preset")

// SpecError says which environment's spec failed to load, and why.
type SpecError struct {
	// Environment is the environment the policy was for.
	Environment string
	// Spec is the spec as given.
	Spec string
	// Err is the cause.
	Err error
}

func (e *SpecError) Error() string {
	return fmt.Sprintf("policy for %s (%s): %v", e.Environment, e.Spec, e.Err)
}

func (e *SpecError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrSpec) true for every SpecError.
func (e *SpecError) Is(target error) bool { return target == ErrSpec }

// IsBuiltinSpec reports whether spec names a built-in preset ("builtin" or
// "builtin:NAME") rather than a file.
func IsBuiltinSpec(spec string) bool {
	return spec == "builtin" || strings.HasPrefix(spec, "builtin:")
}

// SpecOption adjusts the presets a spec names before they are compiled.
type SpecOption func(*specConfig)

type specConfig struct {
	project   *Project
	reference map[string]map[string][]string
}

// WithProject parameterises built-in presets for the project
// (Preset.ForProject); a preset file or Rego policy is left as written.
func WithProject(p Project) SpecOption {
	return func(c *specConfig) { c.project = &p }
}

// WithTEEReference sets the TEE reference values (platform -> measurement
// name -> allowed hex values) of every preset, built-in or from a file
// (Preset.SetTEEReference): where the environment asks for TEE evidence,
// the tee group is then enforced against them. Rego policies are left as
// written.
func WithTEEReference(reference map[string]map[string][]string) SpecOption {
	return func(c *specConfig) { c.reference = reference }
}

// LoadSpecs compiles the policy of each environment from its spec (see
// LoadSpec). The error is a *SpecError.
func LoadSpecs(ctx context.Context, specs map[string]string, opts ...SpecOption) (map[string]*Policy, error) {
	out := make(map[string]*Policy, len(specs))
	for env, spec := range specs {
		p, err := LoadSpec(ctx, env, spec, opts...)
		if err != nil {
			return nil, err
		}
		out[env] = p
	}
	return out, nil
}

// LoadSpec compiles the policy for env that spec names, the way --policy
// and the server configuration's policies name one: "builtin" (the
// built-in preset named like env; "" means the same), "builtin:NAME", a
// preset YAML file (.yaml, .yml; the built-in library with its
// parameters), or a .rego file or a directory of them (tests left out;
// decision at data.hallmark.policy.decision). A relative path is taken from
// the working directory. The error is a *SpecError.
func LoadSpec(ctx context.Context, env, spec string, opts ...SpecOption) (*Policy, error) {
	var cfg specConfig
	for _, o := range opts {
		o(&cfg)
	}
	if spec == "" {
		spec = "builtin"
	}
	p, err := loadSpec(ctx, env, spec, cfg)
	if err != nil {
		return nil, &SpecError{Environment: env, Spec: spec, Err: err}
	}
	return p, nil
}

func loadSpec(ctx context.Context, env, spec string, cfg specConfig) (*Policy, error) {
	if IsBuiltinSpec(spec) {
		name := env
		if n, ok := strings.CutPrefix(spec, "builtin:"); ok && n != "" {
			name = n
		}
		presets, err := BuiltinPresets()
		if err != nil {
			return nil, err
		}
		if cfg.project != nil {
			if presets, err = presets.ForProject(*cfg.project); err != nil {
				return nil, fmt.Errorf("%w: %w", ErrProject, err)
			}
		}
		if cfg.reference != nil {
			presets.SetTEEReference(name, cfg.reference)
		}
		return CompilePreset(ctx, presets, name)
	}
	abs, err := filepath.Abs(spec)
	if err != nil {
		return nil, err
	}
	if strings.HasSuffix(abs, ".yaml") || strings.HasSuffix(abs, ".yml") {
		b, err := limits.ReadFile(abs, MaxPresetSize)
		if err != nil {
			return nil, err
		}
		presets, err := ParsePreset(b)
		if err != nil {
			return nil, err
		}
		if cfg.reference != nil {
			presets.SetTEEReference(env, cfg.reference)
		}
		return CompilePreset(ctx, presets, env, WithURI("file://"+abs))
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, err
	}
	files := []string{abs}
	if st.IsDir() {
		files = nil
		entries, err := os.ReadDir(abs)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".rego") && !strings.HasSuffix(e.Name(), "_test.rego") {
				files = append(files, filepath.Join(abs, e.Name()))
			}
		}
	}
	if len(files) == 0 {
		return nil, errors.New("no .rego files")
	}
	var mods []Module
	for _, f := range files {
		b, err := limits.ReadFile(f, MaxRegoFileSize)
		if err != nil {
			return nil, err
		}
		mods = append(mods, Module{Name: f, Source: b})
	}
	return Compile(ctx, mods, WithURI("file://"+abs))
}
