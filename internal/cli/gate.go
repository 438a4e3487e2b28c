package cli

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/internal/limits"
	"github.com/hallmark-dev/hallmark/internal/server"
	"github.com/hallmark-dev/hallmark/internal/textsafe"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/tee"
	"github.com/hallmark-dev/hallmark/tee/nitro"
	"github.com/hallmark-dev/hallmark/tee/sevsnp"
	"github.com/hallmark-dev/hallmark/trust"
)

type gateFlags struct {
	env, policy, trust, key, requester, name string
	bundles                                  []string
	dumpInput                                string
	remote                                   remoteFlags
	registryEvidence                         bool
	digestAlg                                string
}

func newGateCmd(app *App) *cobra.Command {
	var f gateFlags
	cmd := &cobra.Command{
		Use:   "gate ARTIFACT|sha256:DIGEST --env ENV (--trust FILE --key GATE.key [--policy FILE|builtin:NAME] | --server URL) [--bundle FILE...]",
		Short: "Decide whether an artifact may be deployed to an environment, and record the decision",
		Long: `Gather every piece of evidence about the artifact (from the store and from
--bundle files), verify each against the trust file and the role its kind needs,
evaluate the policy for the environment, print the verdict with what to do about
each violation, and record a signed SLSA Verification Summary Attestation and a
signed deployment-decision record. Exit 0 only on allow; any error denies.

--policy: builtin (default: the built-in library with the preset named by --env),
builtin:NAME (the built-in preset NAME), a preset YAML file (built-in library,
your parameters), or a .rego file or directory (your own policy, decision at
data.hallmark.policy.decision).

--server URL asks a Hallmark server instead: --bundle files are uploaded
first (the server verifies them before storing), then the server's gate
decides with its own trust file, policies and key, and records the decision.
The token is read from $HALLMARK_TOKEN (or --token-env).`,
		Args: argsUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := contextOf(cmd)
			if f.remote.server != "" {
				return remoteGate(app, cmd, f, args[0])
			}
			if err := app.gateDefaults(&f); err != nil {
				return err
			}
			if f.env == "" || f.trust == "" || f.key == "" {
				return usageError(fmt.Errorf("--env, --trust and --key are required (or a %s naming them: hallmark init)", ProjectFile))
			}
			digest, name, err := app.artifactDigestAlg(ctx, args[0], f.digestAlg)
			if err != nil {
				return err
			}
			if f.name != "" {
				name = f.name
			}
			tr, err := trust.Load(f.trust)
			if err != nil {
				return badInput(err)
			}
			reg, refs, err := teeVerification(tr)
			if err != nil {
				return err
			}
			proj, err := app.project()
			if err != nil {
				return err
			}
			pol, err := loadPolicy(ctx, f.policy, f.env, refs, proj)
			if err != nil {
				return err
			}
			k, err := app.loadSigningKey(f.key)
			if err != nil {
				return err
			}
			if err := requireGateRole(tr, f.trust, f.key, k); err != nil {
				return err
			}
			var extra [][]byte
			for _, b := range f.bundles {
				raw, err := app.readInput(b, limits.MaxBundleBytes)
				if err != nil {
					return err
				}
				extra = append(extra, raw)
			}
			s, err := app.openStore(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			vopts, err := app.verifyOptions()
			if err != nil {
				return err
			}
			gopts := []gate.Option{gate.WithClock(app.Now), gate.WithTEE(reg, refs), gate.WithVerifyOptions(vopts...)}
			if f.registryEvidence {
				src, err := app.imageEvidence(ctx, args[0])
				if err != nil {
					return err
				}
				gopts = append(gopts, gate.WithEvidenceSource(src))
			}
			g, err := gate.New(s, tr, map[string]*policy.Policy{f.env: pol}, k, gopts...)
			if err != nil {
				return environmentErr(err)
			}
			res, err := g.Evaluate(ctx, gate.Request{
				Artifact: policy.Artifact{Digest: digest, Name: name}, Environment: f.env,
				Requester: f.requester, Source: "cli", Bundles: extra,
			})
			if res != nil {
				writeVerdict(app.Stdout, res)
				if f.dumpInput != "" {
					if err := dumpGateInput(app.Stderr, f.dumpInput, res.Input, pol); err != nil {
						return err
					}
				}
			}
			if err != nil {
				return environmentErr(fmt.Errorf("gate failed closed (deny): %w", err))
			}
			if !res.Decision.Allow {
				return rejected(fmt.Errorf("deploy of %s to %s denied (%d violation(s))", digest, f.env, len(res.Decision.Violations)))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&f.dumpInput, "dump-input", "", "write the policy input to FILE and the policy to FILE.policy/, to replay the decision with opa eval")
	cmd.Flags().StringVar(&f.env, "env", "", "target environment (selects the policy preset)")
	cmd.Flags().StringVar(&f.policy, "policy", "", "policy: builtin, builtin:NAME, a preset YAML file, or a .rego file or directory (default: the project's policy for --env, else builtin)")
	cmd.Flags().StringVar(&f.trust, "trust", "", "trust file naming the keys trusted for each role (default: the project's)")
	cmd.Flags().StringVar(&f.key, "key", "", "key that signs the VSA and the decision record (default: the project's gate key)")
	cmd.Flags().StringArrayVar(&f.bundles, "bundle", nil, "extra evidence bundle (repeatable)")
	cmd.Flags().StringVar(&f.requester, "requester", "", "who asks (recorded in the decision)")
	cmd.Flags().StringVar(&f.digestAlg, "digest", "sha256", "digest that names a file artifact: sha256, or sha512 (npm provenance names package tarballs so)")
	cmd.Flags().StringVar(&f.name, "name", "", "artifact name to record (default: the file name given)")
	cmd.Flags().BoolVar(&f.registryEvidence, "registry-evidence", false, "also gather the bundles attached to the image in its registry (verified like any other; an unreachable registry denies)")
	f.remote.add(cmd)
	return cmd
}

// requireGateRole refuses a key that would sign gate records the trust file
// does not give the gate role: deployments ls and recheck read back only
// decisions a gate-role key signed, so every decision that key recorded
// would be ignored there as forged. serve refuses the same key at start.
func requireGateRole(tr *trust.Trust, trustPath, keyPath string, k *keys.PrivateKey) error {
	if id := k.Public().ID(); !tr.Has(id, trust.RoleGate) {
		return badInput(fmt.Errorf("--key %s (key ID %s) does not have the %q role in the trust file %s: add it there (roles: [gate]), or the decisions it signs would be neither listed by deployments ls nor rechecked",
			keyPath, id, trust.RoleGate, trustPath))
	}
	return nil
}

// teeVerification builds the TEE verifiers the gate re-checks attestations
// with: SEV-SNP against AMD's bundled roots and Nitro against the pinned AWS
// root, offline. TDX needs cached Intel collateral and TPM quotes need the
// attestation key's roots; neither is configured here, so such evidence is
// listed as ignored. Reference values come from the trust file.
func teeVerification(tr *trust.Trust) (*tee.Registry, *tee.ReferenceValues, error) {
	snp, err := sevsnp.New()
	if err != nil {
		return nil, nil, environmentErr(err)
	}
	nit, err := nitro.New()
	if err != nil {
		return nil, nil, environmentErr(err)
	}
	reg, err := tee.NewRegistry(snp, nit)
	if err != nil {
		return nil, nil, environmentErr(err)
	}
	if tr.ReferenceValuesPath == "" {
		return reg, nil, nil
	}
	f, err := limits.OpenFile(tr.ReferenceValuesPath)
	if err != nil {
		return nil, nil, badInput(fmt.Errorf("trust file reference values: %w", err))
	}
	defer f.Close()
	refs, err := tee.LoadReferenceValues(f)
	if err != nil {
		return nil, nil, badInput(fmt.Errorf("%s: %w", tr.ReferenceValuesPath, err))
	}
	return reg, refs, nil
}

// withReferenceValues puts the trust file's TEE reference values into the
// preset's parameters for env, which enforces the tee group where the
// environment asks for TEE evidence (policy.Preset.SetTEEReference).
func withReferenceValues(p *policy.Preset, env string, refs *tee.ReferenceValues) {
	if refs == nil {
		return
	}
	reference := map[string]map[string][]string{}
	for plat, r := range refs.Platforms {
		reference[string(plat)] = r.Measurements
	}
	p.SetTEEReference(env, reference)
}

// gateDefaults fills --trust, --key and --policy from the project
// configuration where they were not given.
func (a *App) gateDefaults(f *gateFlags) error {
	var err error
	if f.trust, err = a.projectTrust(f.trust); err != nil {
		return err
	}
	if f.key, err = a.projectKey(f.key, "gate"); err != nil {
		return err
	}
	f.policy, err = a.projectValue(f.policy, func(p *Project) string { return p.Policies[f.env] })
	return err
}

// loadPolicy compiles the policy for env from the --policy value (see
// server.Policies for the forms it takes), with the trust file's TEE
// reference values set (which enforces the tee group where the preset asks
// for it). Built-in presets are parameterised by the project, when there is
// one (policy.Preset.ForProject).
func loadPolicy(ctx context.Context, spec, env string, refs *tee.ReferenceValues, proj *Project) (*policy.Policy, error) {
	if spec == "" {
		spec = "builtin"
	}
	builtin := spec == "builtin" || strings.HasPrefix(spec, "builtin:")
	if abs, err := filepath.Abs(spec); err == nil && !builtin {
		spec = abs
	}
	var projErr error
	hook := func(p *policy.Preset, env string) {
		if builtin && proj != nil {
			fp, err := p.ForProject(proj.PolicyProject())
			if err != nil {
				projErr = err
				return
			}
			*p = *fp
		}
		withReferenceValues(p, env, refs)
	}
	pols, err := server.Policies(ctx, map[string]string{env: spec}, hook)
	if projErr != nil {
		return nil, badInput(fmt.Errorf("%s: project parameters: %w", proj.path, projErr))
	}
	if err != nil {
		if strings.HasPrefix(spec, "builtin") {
			return nil, usageError(fmt.Errorf("--policy %s: %w", spec, err))
		}
		return nil, badInput(fmt.Errorf("--policy: %w", err))
	}
	return pols[env], nil
}

// writeVerdict prints the decision for a person.
func writeVerdict(w io.Writer, res *gate.Result) {
	d := res.Decision
	verdict := "DENY"
	if d.Allow {
		verdict = "ALLOW"
	}
	fmt.Fprintf(w, "%s  %s -> %s\n", verdict, textsafe.Escape(fmt.Sprint(d.Artifact)), textsafe.Escape(d.Environment))
	fmt.Fprintf(w, "  policy: %s (sha256:%s)\n", textsafe.Escape(d.PolicyURI), short(d.PolicyDigest, 16))
	if len(d.VerifiedLevels) > 0 {
		fmt.Fprintf(w, "  verified levels: %s\n", strings.Join(textsafe.Strings(d.VerifiedLevels), ", "))
	}
	e := res.Input.Evidence
	fmt.Fprintf(w, "  evidence used: %d provenance, %d rebuilds, %d SBOM, %d vuln scans, %d misconfig scans, %d secret scans, %d TEE, %d approvals\n",
		len(e.Provenance), len(e.Rebuilds), len(e.SBOM), len(e.Vulns), len(e.Misconfig), len(e.Secrets), len(e.TEE), len(e.Approvals))
	for _, v := range d.Violations {
		fmt.Fprintf(w, "  x [%s] %s\n", textsafe.Escape(v.RuleID), textsafe.Escape(v.Message))
		if v.Remediation != "" {
			fmt.Fprintf(w, "      fix: %s\n", textsafe.Escape(v.Remediation))
		}
	}
	for _, ig := range res.Input.Ignored {
		fmt.Fprintf(w, "  ignored %s: %s\n", short(ig.ID, 19), textsafe.Escape(ig.Reason))
	}
	if res.Record.ID != "" {
		fmt.Fprintf(w, "  recorded: decision %s, VSA %s\n", short(res.Record.ID, 19), short(res.VSA.ID, 19))
	}
}
