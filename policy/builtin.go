package policy

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// BuiltinVersion is the version of the embedded built-in library; its Rego
// packages live under hallmark.builtin.v1.
const BuiltinVersion = "v1"

// BuiltinEntrypoint is the decision rule of the built-in library.
const BuiltinEntrypoint = "data.hallmark.builtin.v1.decision"

//go:embed builtin
var builtinFS embed.FS

// builtinModules reads the embedded Rego files; tests selects _test.rego files.
func builtinModules(tests bool) []Module {
	entries, err := fs.ReadDir(builtinFS, "builtin")
	if err != nil {
		panic(fmt.Sprintf("policy: embedded library unreadable: %v", err)) // cannot happen: embedded at build time
	}
	var out []Module
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".rego") || strings.HasSuffix(name, "_test.rego") != tests {
			continue
		}
		src, err := builtinFS.ReadFile(path.Join("builtin", name))
		if err != nil {
			panic(fmt.Sprintf("policy: embedded %s unreadable: %v", name, err))
		}
		out = append(out, Module{Name: "hallmark/builtin/" + BuiltinVersion + "/" + name, Source: src})
	}
	return out
}

// BuiltinModules returns the built-in library's Rego modules (without its
// tests), in name order. Compile always includes them, so user policies may
// use its rules, e.g. data.hallmark.builtin.v1.levels.slsa_build_level.
func BuiltinModules() []Module { return builtinModules(false) }

// BuiltinPresets returns the embedded preset file (dev, staging, prod),
// parsed and validated. Its TEE reference values are placeholders: set
// Params.TEE.Reference from the trust file before compiling with the tee
// group.
func BuiltinPresets() (*Preset, error) {
	return ParsePreset(BuiltinPresetsYAML())
}

// BuiltinPresetsYAML returns the embedded preset file as written, to show or
// copy as a starting point.
func BuiltinPresetsYAML() []byte {
	b, _ := builtinFS.ReadFile("builtin/presets.yaml")
	return b
}

// CompilePreset compiles the built-in library with the parameters of env in
// preset. Its URI defaults to "builtin:<env>" for the embedded presets' use;
// pass WithURI to name a user preset file.
func CompilePreset(ctx context.Context, preset *Preset, env string, opts ...Option) (*Policy, error) {
	params, err := preset.Params(env)
	if err != nil {
		return nil, err
	}
	base := []Option{WithEntrypoint(BuiltinEntrypoint), WithURI("builtin:" + BuiltinVersion + "/" + env), WithParams(params)}
	return Compile(ctx, nil, append(base, opts...)...)
}
