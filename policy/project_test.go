package policy_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/policy/policytest"
)

// The built-in presets parameterised for another repository (issue 16.3):
// its own repository, default branch and builder pass prod, and Hallmark's
// fixture, from another repository, no longer does.
func TestPresetForProject(t *testing.T) {
	builtin, err := policy.BuiltinPresets()
	if err != nil {
		t.Fatal(err)
	}
	const repo = "https://github.com/docker/docker-credential-helpers"
	presets, err := builtin.ForProject(policy.Project{Repository: repo, DefaultBranch: "master", BuilderIDs: []string{policytest.BuilderID}})
	if err != nil {
		t.Fatal(err)
	}
	for _, env := range []string{"staging", "prod"} {
		params, _ := presets.Params(env)
		if diff := cmp.Diff(policy.SourceParams{
			Repositories: []string{repo},
			Refs:         []string{"refs/heads/master", "refs/heads/release/*", "refs/tags/v*"},
		}, params.Source); diff != "" {
			t.Errorf("%s source (-want +got):\n%s", env, diff)
		}
	}
	prod, _ := presets.Params("prod")
	if diff := cmp.Diff([]string{policytest.BuilderID}, prod.SLSA.Builders); diff != "" {
		t.Errorf("prod slsa.builders (-want +got):\n%s", diff)
	}
	p, err := policy.CompilePreset(t.Context(), presets, "prod")
	if err != nil {
		t.Fatal(err)
	}

	in := policytest.Input(now)
	src := &in.Evidence.Provenance[0].ExternalParameters.Source
	d, _ := p.Eval(t.Context(), in)
	if diff := cmp.Diff([]string{"source.ref_not_allowed", "source.repository_not_allowed"}, ruleIDs(d)); diff != "" {
		t.Errorf("Hallmark's own provenance under another project's prod (-want +got):\n%s", diff)
	}
	src.Repository, src.Ref = repo, "refs/heads/master"
	if d, err := p.Eval(t.Context(), in); err != nil || !d.Allow {
		t.Errorf("the project's own provenance: Eval = %+v, %v; want allow", d, err)
	}

	// The dev preset has no source group: ForProject leaves it alone.
	dev, _ := presets.Params("dev")
	if len(dev.Source.Repositories) != 0 {
		t.Errorf("dev source.repositories = %v, want none", dev.Source.Repositories)
	}
}

// TEE rules apply only where reference values are configured (issue 16.3):
// SetTEEReference adds the tee group to an environment that asks for TEE
// evidence, and its reference values then decide.
func TestPresetSetTEEReference(t *testing.T) {
	presets, err := policy.BuiltinPresets()
	if err != nil {
		t.Fatal(err)
	}
	presets.SetTEEReference("prod", map[string]map[string][]string{"tdx": {"mr_td": {"00"}}})
	presets.SetTEEReference("dev", map[string]map[string][]string{"tdx": {"mr_td": {"00"}}})
	prod, _ := presets.Params("prod")
	dev, _ := presets.Params("dev")
	if !contains(prod.Rules, "tee") || contains(dev.Rules, "tee") {
		t.Errorf("tee in rules: prod %v, dev %v; want prod only (dev asks for no TEE evidence)", prod.Rules, dev.Rules)
	}
	p, err := policy.CompilePreset(t.Context(), presets, "prod")
	if err != nil {
		t.Fatal(err)
	}
	d, _ := p.Eval(t.Context(), policytest.Input(now))
	if diff := cmp.Diff([]string{"tee.not_acceptable"}, ruleIDs(d)); diff != "" {
		t.Errorf("fixture TEE evidence against other reference values (-want +got):\n%s", diff)
	}
	if _, err := presets.ForProject(policy.Project{}); err != nil {
		t.Errorf("ForProject with nothing to set: %v", err)
	}
}

// Encode writes a preset file that reads back to the same parameters.
func TestPresetEncode(t *testing.T) {
	builtin, err := policy.BuiltinPresets()
	if err != nil {
		t.Fatal(err)
	}
	presets, err := builtin.ForProject(policy.Project{Repository: "https://example.com/r", DefaultBranch: "trunk", BuilderIDs: []string{"https://b.example/v1"}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := presets.Encode("written by a test\nsecond line")
	if err != nil {
		t.Fatal(err)
	}
	back, err := policy.ParsePreset(b)
	if err != nil {
		t.Fatalf("read back: %v\n%s", err, b)
	}
	if diff := cmp.Diff(presets, back, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("read back (-want +got):\n%s", diff)
	}
	if _, err := policy.ParsePreset([]byte("version: 1\nenvironments: {prod: {rules: [slsa_l3]}}\n")); !errors.Is(err, policy.ErrPreset) {
		t.Errorf("slsa_l3 without builders: %v", err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// The secrets rule names what is missing in words (issue 16.11: it said
// "secretsuration scan").
func TestSecretsMissingMessage(t *testing.T) {
	presets, err := policy.BuiltinPresets()
	if err != nil {
		t.Fatal(err)
	}
	p, err := policy.CompilePreset(t.Context(), presets, "dev")
	if err != nil {
		t.Fatal(err)
	}
	in := policytest.Input(now)
	in.Context.Environment = "dev"
	in.Evidence.Secrets = nil
	d, err := p.Eval(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range d.Violations {
		if v.RuleID == "secrets.scan_missing" {
			if want := "no trusted secrets scan of " + in.Artifact.Digest.String(); len(v.Message) < len(want) || v.Message[:len(want)] != want {
				t.Errorf("message %q, want it to start %q", v.Message, want)
			}
			return
		}
	}
	t.Errorf("no secrets.scan_missing violation: %+v", d.Violations)
}
