package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/artifact"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/internal/limits"
	"github.com/hallmark-dev/hallmark/internal/textsafe"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/tee/verifiers"
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
			var gopts []gate.Option
			var dg digest.Digest
			var name string
			var err error
			if f.digestAlg == "" || f.digestAlg == digest.SHA256 {
				art, err := app.resolveArtifact(ctx, args[0])
				if err != nil {
					return err
				}
				if art.Kind == artifact.KindDirectory {
					return badInput(fmt.Errorf("%s: not a regular file", args[0]))
				}
				dg, name = art.Digest, art.Name
				// Of an index, scan evidence about the platform manifests
				// it lists counts too, and must cover them all.
				gopts = append(gopts, gate.WithIndexResolver(indexPlatforms{art}))
			} else if dg, name, err = app.artifactDigestAlg(ctx, args[0], f.digestAlg); err != nil {
				return err
			}
			if f.name != "" {
				name = f.name
			}
			k, err := app.loadSigningKey(f.key)
			if err != nil {
				return err
			}
			setup, err := app.gateSetup(f.trust, "--key "+f.key, k, map[string]string{f.env: f.policy})
			if err != nil {
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
			if f.registryEvidence {
				src, err := app.imageEvidence(ctx, args[0])
				if err != nil {
					return err
				}
				gopts = append(gopts, gate.WithEvidenceSource(src))
			}
			g, err := app.openGate(ctx, setup, gopts...)
			if err != nil {
				return err
			}
			defer g.Store().Close()
			res, err := g.Evaluate(ctx, gate.Request{
				Artifact: policy.Artifact{Digest: dg, Name: name}, Environment: f.env,
				Requester: f.requester, Source: "cli", Bundles: extra, VSA: true,
			})
			if res != nil {
				writeVerdict(app.Stdout, res)
				if f.dumpInput != "" {
					if err := dumpGateInput(app.Stderr, f.dumpInput, res.Input, g.Policies()[f.env]); err != nil {
						return err
					}
				}
			}
			if err != nil {
				return environmentErr(fmt.Errorf("gate failed closed (deny): %w", err))
			}
			if !res.Decision.Allow {
				return rejected(fmt.Errorf("deploy of %s to %s denied (%d violation(s))", dg, f.env, len(res.Decision.Violations)))
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

// gateSetup is what `hallmark gate` and `hallmark recheck` assemble their
// gate from (gate.Open): the trust file, the policy spec of each
// environment (built-in presets parameterised by the project, when there is
// one), the signing key (keyName names it in errors) and the offline TEE
// verifiers.
func (a *App) gateSetup(trustFile, keyName string, k *keys.PrivateKey, policies map[string]string) (gate.Setup, error) {
	proj, err := a.project()
	if err != nil {
		return gate.Setup{}, err
	}
	reg, err := verifiers.Offline()
	if err != nil {
		return gate.Setup{}, environmentErr(err)
	}
	s := gate.Setup{TrustFile: trustFile, Policies: policies, Key: k, KeyName: keyName, TEE: reg}
	if proj != nil {
		pp := proj.PolicyProject()
		s.Project = &pp
	}
	return s, nil
}

// openGate opens the project's store and the gate over it (gate.Open),
// verifying evidence as `verify` does (--trusted-root) on the app's clock.
// The caller closes g.Store().
func (a *App) openGate(ctx context.Context, setup gate.Setup, opts ...gate.Option) (*gate.Gate, error) {
	s, err := a.openStore(ctx)
	if err != nil {
		return nil, err
	}
	vopts, err := a.verifyOptions()
	if err != nil {
		s.Close()
		return nil, err
	}
	g, err := gate.Open(ctx, s, setup, append([]gate.Option{gate.WithClock(a.Now), gate.WithVerifyOptions(vopts...)}, opts...)...)
	if err != nil {
		s.Close()
		return nil, gateSetupError(err)
	}
	return g, nil
}

// gateSetupError maps what gate.Open refuses to exit codes: an unknown
// built-in preset is a usage error, every other unusable input bad input,
// and a gate that cannot be built an environment error.
func gateSetupError(err error) error {
	se, ok := errors.AsType[*gate.SetupError](err)
	if !ok {
		return environmentErr(err)
	}
	if spec, ok := errors.AsType[*policy.SpecError](err); ok {
		if policy.IsBuiltinSpec(spec.Spec) && !errors.Is(err, policy.ErrProject) {
			return usageError(fmt.Errorf("--policy %s: %w", spec.Spec, spec.Err))
		}
		return badInput(fmt.Errorf("--policy: %w", err))
	}
	return badInput(se)
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
