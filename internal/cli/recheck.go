package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/internal/server"
)

type recheckFlags struct {
	config, trust, key, policy, format, requester string
	envs                                          []string
	remote                                        remoteFlags
	incremental                                   incrementalFlags
}

func newRecheckCmd(app *App) *cobra.Command {
	var f recheckFlags
	cmd := &cobra.Command{
		Use:   "recheck (--config SERVER.yaml | --server URL [--env ENV...] | --trust FILE --key GATE.key --env ENV... [--policy SPEC]) [--format table|json]",
		Short: "Re-evaluate what is deployed under today's evidence and policy; exit 1 if anything would now be denied",
		Long: `For every artifact and environment an admission review allowed it into (in
any workload: what deployments ls --deployed lists; a later denial elsewhere,
a CLI or API gate check or a dry run does not change it), evaluate the gate
again with the evidence now in the store (new vulnerability
scans, revoked approvals) and the current policy, record the result (source
"recheck") and report which would now be denied. Only decisions signed by a key
with the trust file's gate role count; others are reported as ignored.

With --config, the store, trust file, policies and gate key of a server
configuration are used. With --server, a running server rechecks with its own
(POST /v1/recheck; the token needs the admin role, since the verdicts are
recorded). Otherwise the local store is used with --trust, --key
and one policy (--policy, default the built-in preset named like each --env).`,
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := contextOf(cmd)
			if f.format != "table" && f.format != "json" {
				return usageError(fmt.Errorf("--format %q: want table or json", f.format))
			}
			if f.remote.server != "" {
				if f.incremental.db != "" {
					return usageError(errors.New("--db names a local database; with --server the server reads its configured vulnDB"))
				}
				if f.config != "" || f.trust != "" || f.key != "" || cmd.Flags().Changed("policy") {
					return usageError(errors.New("--server rechecks with the server's own configuration: drop --config, --trust, --key and --policy"))
				}
				r, err := app.remote(f.remote)
				if err != nil {
					return err
				}
				req := server.RecheckRequest{Environments: f.envs, Requester: f.requester, Incremental: f.incremental.on}
				if req.Since, err = f.incremental.sinceTime(); err != nil {
					return err
				}
				body, err := json.Marshal(req)
				if err != nil {
					return fmt.Errorf("encode recheck request: %w", err)
				}
				var ans server.RecheckAnswer
				if err := r.do(ctx, http.MethodPost, "/v1/recheck", nil, body, &ans); err != nil {
					return fmt.Errorf("recheck: %w", err)
				}
				reportIgnored(app, ans.Ignored)
				if ans.Incremental != nil {
					reportIncremental(app, ans.Incremental, ans.Deployed)
				}
				return writeRecheck(app, f.format, ans.Rechecked)
			}
			var g *gate.Gate
			switch {
			case f.config != "":
				if f.trust != "" || f.key != "" || len(f.envs) > 0 {
					return usageError(errors.New("give --config or --trust/--key/--env, not both"))
				}
				cfg, err := server.LoadConfig(f.config)
				if err != nil {
					return badInput(err)
				}
				if f.incremental.db == "" {
					f.incremental.db = cfg.VulnDB
				}
				opts, err := app.serverOptions()
				if err != nil {
					return err
				}
				s, err := server.Open(ctx, cfg, app.Getenv, opts...)
				if err != nil {
					return environmentErr(err)
				}
				defer s.Close()
				g = s.Gate()
			default:
				if f.trust == "" || f.key == "" || len(f.envs) == 0 {
					return usageError(errors.New("--trust, --key and at least one --env are required without --config"))
				}
				k, err := app.loadSigningKey(f.key)
				if err != nil {
					return err
				}
				specs := map[string]string{}
				for _, env := range f.envs {
					specs[env] = f.policy
				}
				setup, err := app.gateSetup(f.trust, "--key "+f.key, k, specs)
				if err != nil {
					return err
				}
				if g, err = app.openGate(ctx, setup); err != nil {
					return err
				}
				defer g.Store().Close()
			}
			sel, err := app.recheckSelector(ctx, f.incremental, g.Store(), g.Trust(), f.envs)
			if err != nil {
				return err
			}
			rs, ignored, err := g.RecheckSelected(ctx, f.requester, sel, f.envs...)
			if err != nil {
				return storeError(err)
			}
			reportIgnored(app, ignored)
			return writeRecheck(app, f.format, rs)
		},
	}
	cmd.Flags().StringVar(&f.config, "config", "", "server configuration file (store, trust, policies, gate key)")
	cmd.Flags().StringVar(&f.trust, "trust", "", "trust file (without --config)")
	cmd.Flags().StringVar(&f.key, "key", "", "gate key that signs the recheck records (without --config)")
	cmd.Flags().StringVar(&f.policy, "policy", "builtin", "policy for every --env: builtin, builtin:NAME, a preset YAML file, or .rego")
	cmd.Flags().StringArrayVar(&f.envs, "env", nil, "environment to recheck (repeatable; without --config)")
	cmd.Flags().StringVar(&f.format, "format", "table", "table or json")
	cmd.Flags().StringVar(&f.requester, "requester", "recheck", "who asks (recorded in the decisions)")
	f.remote.add(cmd)
	f.incremental.add(cmd)
	return cmd
}

// writeRecheck prints the verdicts and returns a rejection when anything
// deployed would now be denied.
func writeRecheck(app *App, format string, rs []gate.Recheck) error {
	denied := 0
	for _, r := range rs {
		if !r.Allowed {
			denied++
		}
	}
	if format == "json" {
		enc := json.NewEncoder(app.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rs); err != nil {
			return err
		}
	} else {
		tw := tabwriter.NewWriter(app.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ENV\tARTIFACT\tWORKLOADS\tDEPLOYED\tNOW\tREASONS")
		for _, r := range rs {
			verdict, reasons := "allow", ""
			if !r.Allowed {
				verdict = "DENY"
			}
			for i, v := range r.Violations {
				if i > 0 {
					reasons += "; "
				}
				reasons += "[" + v.RuleID + "] " + v.Message
			}
			if r.Error != "" {
				reasons = r.Error
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", r.Environment, short(r.Artifact.Digest.String(), 19), len(r.Workloads), r.DeployedAt.Format(time.RFC3339), verdict, reasons)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintf(app.Stderr, "%d deployed artifact(s) rechecked, %d would now be denied\n", len(rs), denied)
	if denied > 0 {
		return rejected(fmt.Errorf("%d deployed artifact(s) would now be denied", denied))
	}
	return nil
}
