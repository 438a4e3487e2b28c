package policy

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Project is what the presets need to know about the repository they
// protect: its source repository as the gate compares it (the origin remote
// without "git+" and ".git", e.g. "https://github.com/org/repo"), its default
// branch and the builder IDs trusted for SLSA Build L3. `hallmark init`
// reads them from the checkout and writes them into the project
// configuration.
type Project struct {
	Repository    string
	DefaultBranch string
	BuilderIDs    []string
}

// ForProject returns a copy of p parameterised for proj: in every
// environment that enforces the source group, source.repositories becomes
// proj.Repository and source.refs the default branch, release branches and
// version tags; in every environment that enforces slsa_l3, slsa.builders
// becomes proj.BuilderIDs. Empty fields of proj leave the preset's values.
func (p *Preset) ForProject(proj Project) (*Preset, error) {
	out := &Preset{Version: p.Version, Environments: make(map[string]Params, len(p.Environments))}
	for env, params := range p.Environments {
		params.Rules = slices.Clone(params.Rules)
		if slices.Contains(params.Rules, "source") {
			if proj.Repository != "" {
				params.Source.Repositories = []string{proj.Repository}
			}
			if proj.DefaultBranch != "" {
				branch := strings.TrimPrefix(proj.DefaultBranch, "refs/heads/")
				params.Source.Refs = []string{"refs/heads/" + branch, "refs/heads/release/*", "refs/tags/v*"}
			}
		}
		if slices.Contains(params.Rules, "slsa_l3") && len(proj.BuilderIDs) > 0 {
			params.SLSA.Builders = slices.Clone(proj.BuilderIDs)
		}
		if err := params.normalize(); err != nil {
			if pe, ok := errors.AsType[*PresetError](err); ok {
				pe.Environment = env
			}
			return nil, err
		}
		out.Environments[env] = params
	}
	return out, nil
}

// SetTEEReference sets the TEE reference values (platform -> measurement
// name -> allowed hex values) of env and, when the environment asks for TEE
// evidence (its tee section names platforms, or its rules list tee), enforces
// the tee group there. Without reference values the tee group is left out of
// such an environment's rules: no attestation could match. It does nothing
// for an environment the preset does not have.
func (p *Preset) SetTEEReference(env string, reference map[string]map[string][]string) {
	params, ok := p.Environments[env]
	if !ok {
		return
	}
	params.Rules = slices.Clone(params.Rules)
	wants := len(params.TEE.Platforms) > 0 || slices.Contains(params.Rules, "tee")
	params.TEE.Reference = reference
	switch {
	case len(reference) > 0 && wants && !slices.Contains(params.Rules, "tee"):
		params.Rules = append(params.Rules, "tee")
	case len(reference) == 0:
		params.Rules = slices.DeleteFunc(params.Rules, func(r string) bool { return r == "tee" })
	}
	p.Environments[env] = params
}

// Encode renders p as a preset file that ParsePreset reads back, with
// header as its leading comment (one "# " line per line of header).
func (p *Preset) Encode(header string) ([]byte, error) {
	var buf bytes.Buffer
	for line := range strings.SplitSeq(strings.TrimRight(header, "\n"), "\n") {
		if header == "" {
			break
		}
		buf.WriteString(strings.TrimRight("# "+line, " ") + "\n")
	}
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(p); err != nil {
		return nil, fmt.Errorf("encode preset: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode preset: %w", err)
	}
	if _, err := ParsePreset(buf.Bytes()); err != nil {
		return nil, fmt.Errorf("encoded preset does not read back: %w", err)
	}
	return buf.Bytes(), nil
}
