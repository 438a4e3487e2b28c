package policy_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/policy"
)

// TestLoadSpec: every form a --policy value or a server configuration's
// policy takes compiles to the policy it names.
func TestLoadSpec(t *testing.T) {
	presets := filepath.Join(t.TempDir(), "presets.yaml")
	if err := os.WriteFile(presets, policy.BuiltinPresetsYAML(), 0o600); err != nil {
		t.Fatal(err)
	}
	userDir, err := filepath.Abs("testdata/userpolicy")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ env, spec, uri string }{
		{"dev", "builtin", "builtin:" + policy.BuiltinVersion + "/dev"},
		{"dev", "", "builtin:" + policy.BuiltinVersion + "/dev"},
		{"qa", "builtin:staging", "builtin:" + policy.BuiltinVersion + "/staging"},
		{"staging", presets, "file://" + presets},
		{"prod", userDir, "file://" + userDir},
	} {
		p, err := policy.LoadSpec(t.Context(), tc.env, tc.spec)
		if err != nil {
			t.Errorf("LoadSpec(%s, %q): %v", tc.env, tc.spec, err)
			continue
		}
		if p.URI() != tc.uri {
			t.Errorf("LoadSpec(%s, %q): URI %s, want %s", tc.env, tc.spec, p.URI(), tc.uri)
		}
	}
}

func TestLoadSpecErrors(t *testing.T) {
	empty := t.TempDir()
	for _, tc := range []struct{ spec, want string }{
		{"builtin:nosuch", "no such environment"},
		{empty, "no .rego files"},
		{filepath.Join(empty, "missing.yaml"), "missing.yaml"},
		{"testdata/broken", "testdata/broken"},
	} {
		_, err := policy.LoadSpec(t.Context(), "prod", tc.spec)
		spec, ok := errors.AsType[*policy.SpecError](err)
		if !ok || !errors.Is(err, policy.ErrSpec) || spec.Environment != "prod" || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("LoadSpec(prod, %q) = %v, want a SpecError mentioning %q", tc.spec, err, tc.want)
		}
	}
}

// TestLoadSpecProject: project parameters change the built-in presets.
func TestLoadSpecProject(t *testing.T) {
	plain, err := policy.LoadSpec(t.Context(), "prod", "builtin")
	if err != nil {
		t.Fatal(err)
	}
	proj, err := policy.LoadSpec(t.Context(), "prod", "builtin", policy.WithProject(policy.Project{Repository: "https://example.com/org/app", DefaultBranch: "main"}))
	if err != nil {
		t.Fatal(err)
	}
	if plain.Digest() == proj.Digest() {
		t.Error("project parameters did not change the built-in prod policy")
	}
}
