package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/internal/server"
	"github.com/hallmark-dev/hallmark/internal/textsafe"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/trust"
)

type deploymentsFlags struct {
	env, format, trust string
	artifact           digest.Digest
	limit              int
	deployed           bool
}

func newDeploymentsCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{Use: "deployments", Short: "Show recorded deployment decisions"}
	var f deploymentsFlags
	ls := &cobra.Command{
		Use:   "ls --trust FILE [--env ENV] [--artifact sha256:DIGEST] [--limit N] [--deployed] [--format table|json]",
		Short: "List what was allowed or denied where and when, newest first",
		Long: `List the recorded gate decisions, newest first. Each stored decision is
verified against the trust file and listed only when a key with the gate role
signed it; the others are reported on stderr as ignored. --trust is required
for the local store (with --server, the server verifies with its own).

--deployed lists what is deployed instead, what recheck re-evaluates: every
environment, workload (namespace, kind, name) and artifact an admission review
allowed, with the latest such allow. A later denial of the same digest
elsewhere, a gate check by the CLI or the API, or a dry run does not change it.`,
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.format != "table" && f.format != "json" {
				return usageError(fmt.Errorf("--format %q: want table or json", f.format))
			}
			if t, err := app.projectTrust(f.trust); err != nil {
				return err
			} else {
				f.trust = t
			}
			if f.trust == "" {
				return usageError(errors.New("--trust is required: decisions are listed only when a key with the trust file's gate role signed them"))
			}
			if f.limit < 0 {
				return usageError(fmt.Errorf("--limit %d: want 0 (all) or more", f.limit))
			}
			tr, err := trust.Load(f.trust)
			if err != nil {
				return badInput(err)
			}
			s, err := app.openStore(contextOf(cmd))
			if err != nil {
				return err
			}
			defer s.Close()
			if f.deployed {
				if !f.artifact.IsZero() || cmd.Flags().Changed("limit") {
					return usageError(errors.New("--deployed lists every deployed artifact: drop --artifact and --limit"))
				}
				rs, ignored, err := gate.Deployed(contextOf(cmd), s, tr)
				if err != nil {
					return storeError(err)
				}
				reportIgnored(app, ignored)
				return writeRunning(app, f.format, f.env, rs)
			}
			ds, ignored, err := gate.Deployments(contextOf(cmd), s, tr, gate.DeploymentQuery{Environment: f.env, Artifact: f.artifact, Limit: f.limit})
			if err != nil {
				if errors.Is(err, store.ErrBadQuery) {
					return usageError(err)
				}
				return storeError(err)
			}
			reportIgnored(app, ignored)
			return writeDeployments(app, f.format, ds)
		},
	}
	ls.Flags().StringVar(&f.env, "env", "", "only this environment")
	ls.Flags().TextVar(&f.artifact, "artifact", digest.Digest{}, "only this artifact digest (sha256:HEX)")
	ls.Flags().StringVar(&f.format, "format", "table", "table or json")
	ls.Flags().StringVar(&f.trust, "trust", "", "trust file: only decisions signed by a key with role gate are listed (required without --server)")
	ls.Flags().IntVar(&f.limit, "limit", server.DefaultDeploymentsLimit, "at most this many decisions, the newest (0: all; with --server, 1.."+fmt.Sprint(server.MaxListLimit)+")")
	ls.Flags().BoolVar(&f.deployed, "deployed", false, "list what admission reviews allowed where (what recheck rechecks), not the decisions")
	cmd.AddCommand(ls, newDeploymentsVSACmd(app))
	return cmd
}

// writeDeployments prints decisions as a table or as JSON.
func writeDeployments(app *App, format string, ds []gate.Deployment) error {
	if format == "json" {
		enc := json.NewEncoder(app.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(ds)
	}
	tw := tabwriter.NewWriter(app.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DECIDED\tENV\tARTIFACT\tDECISION\tVIOLATIONS\tREQUESTER\tSOURCE")
	for _, d := range ds {
		verdict := "deny"
		if d.Allowed {
			verdict = "allow"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", d.DecidedAt.Format(time.RFC3339), textsafe.Escape(d.Environment), textsafe.Escape(short(d.Artifact.Digest.String(), 19)), verdict, len(d.Violations), textsafe.Escape(d.Requester), textsafe.Escape(d.Source))
	}
	return tw.Flush()
}

// writeRunning prints what is deployed (in env, when not empty) as a table
// or as JSON.
func writeRunning(app *App, format, env string, rs []gate.Running) error {
	rs = slices.DeleteFunc(rs, func(r gate.Running) bool { return env != "" && r.Environment != env })
	if format == "json" {
		enc := json.NewEncoder(app.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rs)
	}
	tw := tabwriter.NewWriter(app.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ENV\tNAMESPACE\tWORKLOAD\tARTIFACT\tADMITTED")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Environment, r.Workload.Namespace, r.Workload.KindName(), short(r.Artifact.Digest.String(), 19), r.AdmittedAt.Format(time.RFC3339))
	}
	return tw.Flush()
}

// reportIgnored tells stderr which stored decisions did not count.
func reportIgnored(app *App, ignored []gate.IgnoredDecision) {
	for _, ig := range ignored {
		fmt.Fprintf(app.Stderr, "ignored decision %s: %s\n", textsafe.Escape(ig.ID), textsafe.Escape(ig.Reason))
	}
}
