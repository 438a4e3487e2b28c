package cli

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/internal/textsafe"
	"github.com/hallmark-dev/hallmark/retention"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/trust"
)

type pruneFlags struct {
	config, trust, format string
	keep                  time.Duration
	dryRun, compact       bool
}

func newEvidencePruneCmd(app *App) *cobra.Command {
	var f pruneFlags
	cmd := &cobra.Command{
		Use:   "prune --keep DURATION (--trust FILE | --config SERVER.yaml) [--dry-run] [--compact] [--format table|json]",
		Short: "Forget superseded scans and old denials, keeping what an audit needs",
		Long: `Remove from the evidence store, among the records stored longer ago than --keep:
vulnerability scans and SBOMs superseded by a newer one of the same artifact
by the same scanner key, denials that are no longer the latest decision about
their artifact and environment, recheck allows superseded by a later
decision, and the VSAs of the decisions removed.

Never removed: approvals, provenance and any other evidence, admission allows
(what deployments ls --deployed lists), the latest decision about an artifact
in an environment, a denial that decided an admission review, anything a kept
decision names as its evidence or VSA, and decision records that do not
verify as the gate's against the trust file. docs/retention.md explains why.

--dry-run lists what would go and removes nothing. --compact then gives the
space back (SQLite VACUUM, PostgreSQL VACUUM ANALYZE). With --config, the
server's store and trust file are used.`,
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := contextOf(cmd)
			if f.format != "table" && f.format != "json" {
				return usageError(fmt.Errorf("--format %q: want table or json", f.format))
			}
			if f.keep <= 0 {
				return usageError(errors.New("--keep is required: how long every record is kept, e.g. 720h for 30 days"))
			}
			if f.config != "" && f.trust != "" {
				return usageError(errors.New("give --config or --trust, not both: the configuration names its trust file"))
			}
			if f.config == "" {
				t, err := app.projectTrust(f.trust)
				if err != nil {
					return err
				}
				if f.trust = t; t == "" {
					return usageError(errors.New("--trust is required: decisions are read only when a key with the trust file's gate role signed them"))
				}
			}
			st, configTrust, err := app.storeOf(ctx, f.config)
			if err != nil {
				return err
			}
			defer st.Close()
			tr, err := trust.Load(cmp.Or(configTrust, f.trust))
			if err != nil {
				return badInput(err)
			}
			plan, err := retention.NewPlan(ctx, st, tr, f.keep, app.Now())
			if err != nil {
				return storeError(err)
			}
			removed := 0
			if !f.dryRun {
				if removed, err = retention.Apply(ctx, st, plan); err != nil {
					return storeError(err)
				}
				if c, ok := st.(store.Compacter); ok && f.compact {
					if err := c.Compact(ctx); err != nil {
						return storeError(err)
					}
				}
			}
			if err := writePlan(app, f.format, plan); err != nil {
				return err
			}
			verb := "removed"
			if f.dryRun {
				verb, removed = "would remove", len(plan.Prune)
			}
			fmt.Fprintf(app.Stderr, "%d of %d record(s) %s, %d of %d bundle bytes; %d unreadable decision record(s) kept\n",
				removed, plan.Records, verb, plan.PruneBytes, plan.Bytes, len(plan.Unreadable))
			return nil
		},
	}
	cmd.Flags().DurationVar(&f.keep, "keep", 0, "keep every record stored within this long (e.g. 720h); required")
	cmd.Flags().StringVar(&f.trust, "trust", "", "trust file the decisions are read with (without --config)")
	cmd.Flags().StringVar(&f.config, "config", "", "server configuration: prune its store, read decisions with its trust file")
	cmd.Flags().BoolVar(&f.dryRun, "dry-run", false, "list what would be removed; remove nothing")
	cmd.Flags().BoolVar(&f.compact, "compact", false, "give the freed space back afterwards (VACUUM)")
	cmd.Flags().StringVar(&f.format, "format", "table", "table or json")
	return cmd
}

// writePlan prints the records a prune removes (or would).
func writePlan(app *App, format string, p *retention.Plan) error {
	if format == "json" {
		enc := json.NewEncoder(app.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(p)
	}
	tw := tabwriter.NewWriter(app.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STORED\tID\tTYPE\tSUBJECT\tBYTES\tREASON")
	for _, it := range p.Prune {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", it.StoredAt.Format(time.RFC3339), short(it.ID, 19), textsafe.Escape(it.PredicateType), short(it.Subject, 19), it.Bytes, it.Reason)
	}
	return tw.Flush()
}
