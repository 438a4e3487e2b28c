package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/internal/limits"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/trust"
)

type gateFlags struct {
	env, policy, trust, key, requester, name string
	bundles                                  []string
}

func newGateCmd(app *App) *cobra.Command {
	var f gateFlags
	cmd := &cobra.Command{
		Use:   "gate ARTIFACT|sha256:DIGEST --env ENV --trust FILE --key GATE.key [--policy FILE|builtin:NAME] [--bundle FILE...]",
		Short: "Decide whether an artifact may be deployed to an environment, and record the decision",
		Long: `Gather every piece of evidence about the artifact (from the store and from
--bundle files), verify each against the trust file and the role its kind needs,
evaluate the policy for the environment, print the verdict with what to do about
each violation, and record a signed SLSA Verification Summary Attestation and a
signed deployment-decision record. Exit 0 only on allow; any error denies.

--policy: builtin (default: the built-in library with the preset named by --env),
builtin:NAME (the built-in preset NAME), a preset YAML file (built-in library,
your parameters), or a .rego file or directory (your own policy, decision at
data.hallmark.policy.decision).`,
		Args: argsUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := contextOf(cmd)
			if f.env == "" || f.trust == "" || f.key == "" {
				return usageError(fmt.Errorf("--env, --trust and --key are required"))
			}
			digest, name, err := artifactDigest(args[0])
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
			pol, err := loadPolicy(ctx, f.policy, f.env)
			if err != nil {
				return err
			}
			k, err := app.loadSigningKey(f.key)
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
			s, err := app.openStore(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			g, err := gate.New(s, tr, map[string]*policy.Policy{f.env: pol}, k, gate.WithClock(app.Now))
			if err != nil {
				return environmentErr(err)
			}
			res, err := g.Evaluate(ctx, gate.Request{
				Artifact: policy.Artifact{Digest: digest, Name: name}, Environment: f.env,
				Requester: f.requester, Source: "cli", Bundles: extra,
			})
			if res != nil {
				writeVerdict(app.Stdout, res)
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
	cmd.Flags().StringVar(&f.env, "env", "", "target environment (selects the policy preset)")
	cmd.Flags().StringVar(&f.policy, "policy", "builtin", "policy: builtin, builtin:NAME, a preset YAML file, or a .rego file or directory")
	cmd.Flags().StringVar(&f.trust, "trust", "", "trust file naming the keys trusted for each role")
	cmd.Flags().StringVar(&f.key, "key", "", "key that signs the VSA and the decision record")
	cmd.Flags().StringArrayVar(&f.bundles, "bundle", nil, "extra evidence bundle (repeatable)")
	cmd.Flags().StringVar(&f.requester, "requester", "", "who asks (recorded in the decision)")
	cmd.Flags().StringVar(&f.name, "name", "", "artifact name to record (default: the file name given)")
	return cmd
}

// artifactDigest accepts a file (hashed) or "sha256:<hex>".
func artifactDigest(arg string) (digest, name string, err error) {
	if strings.HasPrefix(arg, "sha256:") {
		return strings.ToLower(arg), "", nil
	}
	s, err := fileSubject(arg)
	if err != nil {
		return "", "", err
	}
	return "sha256:" + s.Digest["sha256"], s.Name, nil
}

// loadPolicy compiles the policy for env from the --policy value.
func loadPolicy(ctx context.Context, spec, env string) (*policy.Policy, error) {
	switch {
	case spec == "" || spec == "builtin" || strings.HasPrefix(spec, "builtin:"):
		name := env
		if n, ok := strings.CutPrefix(spec, "builtin:"); ok && n != "" {
			name = n
		}
		presets, err := policy.BuiltinPresets()
		if err != nil {
			return nil, environmentErr(err)
		}
		p, err := policy.CompilePreset(ctx, presets, name)
		if err != nil {
			return nil, usageError(fmt.Errorf("--policy %s: %w", spec, err))
		}
		return p, nil
	case strings.HasSuffix(spec, ".yaml") || strings.HasSuffix(spec, ".yml"):
		b, err := readFileBounded(spec, policy.MaxPresetSize)
		if err != nil {
			return nil, err
		}
		presets, err := policy.ParsePreset(b)
		if err != nil {
			return nil, badInput(fmt.Errorf("%s: %w", spec, err))
		}
		abs, _ := filepath.Abs(spec)
		p, err := policy.CompilePreset(ctx, presets, env, policy.WithURI("file://"+abs))
		if err != nil {
			return nil, badInput(fmt.Errorf("%s: %w", spec, err))
		}
		return p, nil
	default:
		mods, err := regoModules(spec)
		if err != nil {
			return nil, err
		}
		abs, _ := filepath.Abs(spec)
		p, err := policy.Compile(ctx, mods, policy.WithURI("file://"+abs))
		if err != nil {
			return nil, badInput(fmt.Errorf("%s: %w", spec, err))
		}
		return p, nil
	}
}

// regoModules reads a .rego file or every non-test .rego file of a directory.
func regoModules(path string) ([]policy.Module, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, badInput(fmt.Errorf("--policy: %w", err))
	}
	var files []string
	if st.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, badInput(err)
		}
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".rego") && !strings.HasSuffix(e.Name(), "_test.rego") {
				files = append(files, filepath.Join(path, e.Name()))
			}
		}
	} else {
		files = []string{path}
	}
	if len(files) == 0 {
		return nil, badInput(fmt.Errorf("--policy %s: no .rego files", path))
	}
	var mods []policy.Module
	for _, f := range files {
		b, err := readFileBounded(f, 4<<20)
		if err != nil {
			return nil, err
		}
		mods = append(mods, policy.Module{Name: f, Source: b})
	}
	return mods, nil
}

func readFileBounded(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, badInput(err)
	}
	defer f.Close()
	b, err := limits.ReadAll(f, max, path)
	if err != nil {
		return nil, badInput(err)
	}
	return b, nil
}

// writeVerdict prints the decision for a person.
func writeVerdict(w io.Writer, res *gate.Result) {
	d := res.Decision
	verdict := "DENY"
	if d.Allow {
		verdict = "ALLOW"
	}
	fmt.Fprintf(w, "%s  %s -> %s\n", verdict, d.Artifact, d.Environment)
	fmt.Fprintf(w, "  policy: %s (sha256:%s)\n", d.PolicyURI, short(d.PolicyDigest, 16))
	if len(d.VerifiedLevels) > 0 {
		fmt.Fprintf(w, "  verified levels: %s\n", strings.Join(d.VerifiedLevels, ", "))
	}
	e := res.Input.Evidence
	fmt.Fprintf(w, "  evidence used: %d provenance, %d rebuilds, %d SBOM, %d vuln scans, %d misconfig scans, %d secret scans, %d TEE, %d approvals\n",
		len(e.Provenance), len(e.Rebuilds), len(e.SBOM), len(e.Vulns), len(e.Misconfig), len(e.Secrets), len(e.TEE), len(e.Approvals))
	for _, v := range d.Violations {
		fmt.Fprintf(w, "  x [%s] %s\n", v.RuleID, v.Message)
		if v.Remediation != "" {
			fmt.Fprintf(w, "      fix: %s\n", v.Remediation)
		}
	}
	for _, ig := range res.Input.Ignored {
		fmt.Fprintf(w, "  ignored %s: %s\n", short(ig.ID, 19), ig.Reason)
	}
	if res.Record.ID != "" {
		fmt.Fprintf(w, "  recorded: decision %s, VSA %s\n", short(res.Record.ID, 19), short(res.VSA.ID, 19))
	}
}
